"""`--diff-base REF`: which lines changed since a git ref, so that only findings on them are reported.

Lines come from `git diff -U0 REF` (the working tree against REF: committed, staged and unstaged changes); a file
git does not track counts as changed throughout. A notebook's diff is of its JSON, so its code cells are compared
with those at REF line by line instead.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Set

from nnlint import notebook
from nnlint.fingerprint import MAX_SPAN_LINES
from nnlint.text import split_lines
from nnlint.types import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(Exception):
    """git cannot answer (not a repository, unknown ref, git missing); the message says what to do."""


@dataclass(frozen=True)
class ChangedLines:
    """Per file (real absolute path): the changed line numbers, or None when the whole file is new."""

    ref: str
    top: Path
    files: Dict[str, Optional[FrozenSet[int]]]

    def keep(self, findings: Sequence[Finding], cwd: Path, read_text: Callable[[str], Optional[str]]) -> List[Finding]:
        """The findings that start on (or, for a short span, reach) a changed line."""
        kept = []
        for finding in findings:
            changed = self.files.get(_real(cwd / finding.location.path), frozenset())
            if changed is None:
                kept.append(finding)
                continue
            loc = finding.location
            first = loc.line if loc.cell is None else _program_line(read_text(loc.path), loc.cell, loc.line)
            if first is None:
                continue
            height = (loc.end_line or loc.line) - loc.line
            lines = range(first, first + (height + 1 if 0 <= height < MAX_SPAN_LINES else 1))
            if any(line in changed for line in lines):
                kept.append(finding)
        return kept


def changed_lines(ref: str, paths: Sequence[Path], cwd: Path) -> ChangedLines:
    """Lines changed in `paths` since `ref`; GitError when `cwd` is not in a git repository or `ref` is unknown."""
    if ref.startswith("-"):
        raise GitError(f"--diff-base: {ref!r} is not a git ref")
    absolute = [os.path.abspath(cwd / path) for path in paths] or [str(cwd)]
    folder = Path(os.path.commonpath(absolute))
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent  # git runs in a folder; the paths may name files
    try:
        top = Path(os.path.realpath(_git(["rev-parse", "--show-toplevel"], folder).strip()))
    except GitError:
        raise GitError(f"--diff-base needs a git repository, and {folder} is not inside one") from None
    cwd = folder
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except GitError:
        raise GitError(
            f"--diff-base: {ref!r} is not a commit in this repository (in CI, fetch it first: "
            "actions/checkout with `fetch-depth: 0`)"
        ) from None
    specs = ["--", *absolute]
    options = ["-U0", "--no-color", "--no-ext-diff", "--no-renames"]
    diff = _git(["-c", "core.quotePath=false", "diff", *options, ref, *specs], cwd)
    files: Dict[str, Optional[FrozenSet[int]]] = {
        _real(top / name): frozenset(lines) for name, lines in parse_diff(diff).items()
    }
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z", *specs], cwd)
    for name in filter(None, untracked.split("\0")):
        files[_real(cwd / name)] = None
    for name in list(files):
        if notebook.is_notebook(name) and files[name] is not None:
            files[name] = _notebook_lines(ref, Path(name), top, cwd)
    return ChangedLines(ref, top, files)


def parse_diff(diff: str) -> Dict[str, List[int]]:
    """`git diff -U0` output -> the new file's added or changed line numbers, by path relative to the repository."""
    files: Dict[str, List[int]] = {}
    current: Optional[List[int]] = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            current = None if name == "/dev/null" else files.setdefault(name[2:] if name.startswith("b/") else name, [])
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                current.extend(range(start, start + count))
    return files


def _unquote(name: str) -> str:
    """git's C-style quoting of unusual file names ("a\\tb", octal escapes for bytes)."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _notebook_lines(ref: str, path: Path, top: Path, cwd: Path) -> Optional[FrozenSet[int]]:
    """Changed lines of a notebook's program (the cells' code), by comparing it with the program at `ref`."""
    try:
        before = notebook.program(_git_bytes(["show", f"{ref}:{path.relative_to(top).as_posix()}"], cwd))
        after = notebook.program(path.read_bytes())
    except (GitError, notebook.NotebookError, OSError, ValueError):
        return None  # new at `ref`, or unreadable: all of it counts
    matcher = difflib.SequenceMatcher(None, split_lines(before), split_lines(after), autojunk=False)
    changed: Set[int] = set()
    for tag, _, _, start, end in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(range(start + 1, end + 1))
    return frozenset(changed)


def _program_line(text: Optional[str], cell: int, line: int) -> Optional[int]:
    if text is None:
        return None
    for index, at in enumerate(notebook.cell_positions(text)):
        if at == (cell, line):
            return index + 1
    return None


def _real(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def _git(args: Sequence[str], cwd: Path) -> str:
    return _git_bytes(args, cwd).decode("utf-8", "surrogateescape")


def _git_bytes(args: Sequence[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, check=False)
    except OSError as error:
        raise GitError(f"--diff-base needs git, which cannot run here: {error}") from None
    if done.returncode != 0:
        raise GitError(done.stderr.decode("utf-8", "replace").strip() or f"git {' '.join(args)} failed")
    return done.stdout
