"""Suppression comments, applied to the findings of every pass.

`# noqa` / `# noqa: NN201` and `# nnlint: ignore` / `# nnlint: ignore[NN201, name]` on the line a
finding starts; `# nnlint: skip-file` anywhere in a file drops all of its findings. A line that cannot hold a
comment (it ends inside a multi-line string or with a backslash) takes the comment of the first line after it
that can: the statement's last line.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from nnlint.text import split_lines
from nnlint.types import Finding

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9_\-]+(?:[\s,]+[A-Za-z0-9_\-]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*nnlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_SKIP_FILE = re.compile(r"#\s*nnlint:\s*skip-file\b", re.IGNORECASE)

ALL = frozenset({"*"})


class FileDirectives:
    """The suppressions one file declares: per line, the codes or names it silences (`*` for all)."""

    def __init__(self, text: str) -> None:
        self.skip_file = False
        self.lines: Dict[int, FrozenSet[str]] = {}
        if "#" not in text:
            return  # nothing to read: skip tokenizing
        scanned = scan(text)
        for line, _, comment in scanned.comments:
            if _SKIP_FILE.search(comment):
                self.skip_file = True
            silenced = _silenced(comment)
            if silenced:
                self.lines[line] = self.lines.get(line, frozenset()) | silenced
        for line in sorted(self.lines, reverse=True):
            above = line - 1
            while above in scanned.continued:
                self.lines[above] = self.lines.get(above, frozenset()) | self.lines[line]
                above -= 1

    def suppresses(self, finding: Finding) -> bool:
        """Whether a comment in this file silences `finding`."""
        if self.skip_file:
            return True
        silenced = self.lines.get(finding.location.line)
        if not silenced:
            return False
        return "*" in silenced or finding.code.upper() in silenced or finding.name.upper() in silenced


def _silenced(comment: str) -> FrozenSet[str]:
    codes: set = set()
    for pattern in (NOQA, _IGNORE):
        for match in pattern.finditer(comment):
            listed = match.group("codes")
            if listed is None:
                codes.add("*")
            else:
                codes.update(part.strip().upper() for part in re.split(r"[\s,]+", listed) if part.strip())
    return frozenset(codes)


@dataclass(frozen=True)
class Scan:
    """A file's comments as (line, 0-based column, text), the lines that cannot end in a comment, and whether
    tokenizing worked (when not, comments come from a line scan and `continued` is empty)."""

    comments: Tuple[Tuple[int, int, str], ...]
    continued: FrozenSet[int]
    tokenized: bool


# Tokens that may hold a line break inside them (f-strings are split into parts from Python 3.12 on).
_TEXT_TOKENS = frozenset(
    getattr(tokenize, name) for name in ("STRING", "FSTRING_MIDDLE", "TSTRING_MIDDLE") if hasattr(tokenize, name)
)


def scan(text: str) -> Scan:
    """Comments and continued lines of `text`; falls back to a line scan when tokenizing fails."""
    comments: List[Tuple[int, int, str]] = []
    continued: Set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):  # streamed: a big file's tokens add up
            if token.type == tokenize.COMMENT:
                comments.append((token.start[0], token.start[1], token.string))
            elif token.type in _TEXT_TOKENS and token.start[0] < token.end[0]:
                continued.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        found = tuple(
            (number, line.index("#"), line[line.index("#") :])
            for number, line in enumerate(text.splitlines(), 1)
            if "#" in line
        )
        return Scan(found, frozenset(), False)
    commented = {line for line, _, _ in comments}
    for number, line in enumerate(split_lines(text), 1):
        if line.endswith("\\") and number not in continued and number not in commented:
            continued.add(number)
    return Scan(tuple(comments), frozenset(continued), True)


def apply(findings: Iterable[Finding], read_text: Callable[[str], Optional[str]]) -> List[Finding]:
    """Drop the findings a comment silences; `read_text(path)` returns a file's text or None."""
    directives: Dict[str, Optional[FileDirectives]] = {}
    kept = []
    for finding in findings:
        path = finding.location.path
        if path not in directives:
            text = read_text(path)
            directives[path] = FileDirectives(text) if text is not None else None
        found = directives[path]
        if found is None or not found.suppresses(finding):
            kept.append(finding)
    return kept
