"""Suppression comments, applied to the findings of every pass.

`# noqa` / `# noqa: NN201` and `# nnlint: ignore` / `# nnlint: ignore[NN201, name]` on the line a
finding starts; `# nnlint: skip-file` anywhere in a file drops all of its findings.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional

from nnlint.types import Finding

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9_\-]+(?:[\s,]+[A-Za-z0-9_\-]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*nnlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_SKIP_FILE = re.compile(r"#\s*nnlint:\s*skip-file\b", re.IGNORECASE)

ALL = frozenset({"*"})


class FileDirectives:
    """The suppressions one file declares: per line, the codes or names it silences (`*` for all)."""

    def __init__(self, text: str) -> None:
        self.skip_file = False
        self.lines: Dict[int, FrozenSet[str]] = {}
        for line, comment in _comments(text):
            if _SKIP_FILE.search(comment):
                self.skip_file = True
            silenced = _silenced(comment)
            if silenced:
                self.lines[line] = self.lines.get(line, frozenset()) | silenced

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
    for pattern in (_NOQA, _IGNORE):
        for match in pattern.finditer(comment):
            listed = match.group("codes")
            if listed is None:
                codes.add("*")
            else:
                codes.update(part.strip().upper() for part in re.split(r"[\s,]+", listed) if part.strip())
    return frozenset(codes)


def _comments(text: str) -> Iterable[tuple]:
    """(line, comment text) for each comment; falls back to a line scan when tokenizing fails."""
    if "#" not in text:
        return []
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return [(token.start[0], token.string) for token in tokens if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return [(number, line[line.index("#") :]) for number, line in enumerate(text.splitlines(), 1) if "#" in line]


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
