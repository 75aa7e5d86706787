"""Applying fixes: edits to text, re-lint until stable, verify the result parses, write atomically (or show a diff).

A fixed file must always parse, applying fixes twice must change nothing, and a file is written
only if it did not change on disk while nnlint ran — with its encoding, BOM, line endings and
permissions kept.
"""

from __future__ import annotations

import difflib
import functools
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import libcst as cst

from nnlint import notebook
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.text import line_starts
from nnlint.types import Edit, Finding

MAX_ROUNDS = 10


class FileChanged(Exception):
    """The file on disk changed while nnlint was running; it was not overwritten."""


def _offset(starts: List[int], text: str, line: int, column: int) -> int:
    if line - 1 >= len(starts):
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (1-based line/column, end exclusive); later overlapping ones are skipped."""
    starts = line_starts(text)
    spans = sorted(
        (
            (_offset(starts, text, e.line, e.column), _offset(starts, text, e.end_line, e.end_column), e.text)
            for e in edits
        ),
        key=lambda span: (span[0], span[1]),
    )
    pieces, cursor = [], 0
    for start, end, replacement in spans:
        if start < cursor:
            continue  # overlaps an edit already taken; the next round picks it up if still needed
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def parses(text: str) -> bool:
    """Whether `text` is still valid Python for nnlint's parser."""
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError):
        return False
    return True


def fix_text(
    text: str,
    findings: Sequence[Finding],
    relint: Callable[[str], Sequence[Finding]],
    unsafe: bool = False,
) -> Tuple[str, int]:
    """Apply the fixes of `findings`, then of `relint(new_text)`, until nothing changes; (text, fixes applied)."""
    applied = 0
    current = list(findings)
    for _ in range(MAX_ROUNDS):
        fixes = [f.fix for f in current if f.fix is not None and (f.fix.safe or unsafe)]
        if not fixes:
            break
        candidate = apply_edits(text, [edit for fix in fixes for edit in fix.edits])
        if candidate == text or not parses(candidate):
            break  # a fix that would break the file is never written
        applied += len(fixes)
        text = candidate
        current = list(relint(text))
    return text, applied


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff of a fix, as `--diff` prints it."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
        )
    )


def write_atomically(path: Path, original: bytes, text: str, encoding: str) -> None:
    """Replace `path` with `text` encoded as before, via a temporary file and a rename; refuse if it changed on disk."""
    write_bytes_atomically(path, original, text.encode(encoding))


def write_bytes_atomically(path: Path, original: bytes, data: bytes) -> None:
    """write_atomically for content already encoded (a notebook's JSON)."""
    target = Path(os.path.realpath(path))
    if target.read_bytes() != original:
        raise FileChanged(str(path))
    mode = stat.S_IMODE(target.stat().st_mode)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".nnlint-tmp", dir=str(target.parent))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        if target.read_bytes() != original:
            raise FileChanged(str(path))
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_change(
    path: Path, raw: bytes, new_text: str, encoding: str, display: str, changed: str, failed: str = ""
) -> Optional[str]:
    """Write a file's new text atomically (a notebook rebuilt around its new cells); None when written, else the
    note that says why not: `changed` ends the note for a file changed on disk meanwhile, `failed` that for a
    write error."""
    try:
        if notebook.is_notebook(path.name):
            write_bytes_atomically(path, raw, notebook.rebuild(raw, new_text))
        else:
            write_atomically(path, raw, new_text, encoding)
    except notebook.NotebookError as error:
        return f"{display}: {error}"
    except FileChanged:
        return f"{display} changed on disk while nnlint ran; {changed}"
    except OSError as error:
        return f"{display} could not be written ({error.strerror or error}){failed}"
    return None


def fixable(findings: Sequence[Finding], unsafe: bool) -> List[Finding]:
    """The findings whose fix `--fix` (with `--unsafe-fixes` if set) would apply."""
    return [f for f in findings if f.fix is not None and (f.fix.safe or unsafe)]


@dataclass
class FixOutcome:
    """What fixing every file did: the findings left, fixes applied (or shown) per file, diffs, notes on files skipped."""

    findings: List[Finding]
    fixed: Dict[str, int] = field(default_factory=dict)
    diffs: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def apply_all(
    findings: Sequence[Finding],
    paths: Mapping[str, Path],
    texts: Dict[str, Optional[str]],
    relint: Callable[[str, str], List[Finding]],
    unsafe: bool = False,
    diff: bool = False,
) -> FixOutcome:
    """Fix every file with fixable findings, or only show the diffs (`diff`); a file is fixed only if its text on disk
    is still `texts[display]`, the text that was linted. `relint(display, text)` lints a candidate text.

    `paths` maps display paths to files; `texts` is updated with what was written. The findings returned are those
    of the written files' new texts plus the others unchanged."""
    outcome = FixOutcome(list(findings))
    for display in sorted({f.location.path for f in fixable(findings, unsafe)}):
        path = paths[display]
        try:
            raw, text, encoding = read_source(path)
        except UnreadableSource:
            outcome.notes.append(f"{display} disappeared or became unreadable while nnlint ran; it was not fixed")
            continue
        if text != texts.get(display):
            outcome.notes.append(f"{display} changed on disk while nnlint ran; it was not fixed (run nnlint again)")
            continue
        file_findings = [f for f in outcome.findings if f.location.path == display]
        new_text, applied = fix_text(text, file_findings, functools.partial(relint, display), unsafe)
        if new_text == text:
            continue
        in_notebook = notebook.is_notebook(path.name)
        if diff:
            outcome.diffs.append((notebook.cell_diff if in_notebook else unified_diff)(display, text, new_text))
            outcome.fixed[display] = applied
            continue
        note = write_change(path, raw, new_text, encoding, display, "it was not fixed", "; it was not fixed")
        if note is not None:
            outcome.notes.append(note)
            continue
        outcome.fixed[display] = applied
        texts[display] = new_text
        outcome.findings = [f for f in outcome.findings if f.location.path != display] + relint(display, new_text)
    return outcome
