"""`--add-noqa`: silence every current finding with a `# noqa: NNxxx` comment on its line, written like `--fix`.

A comment goes where nnlint/suppress.py reads it: the finding's line, or, when that line cannot end in a comment
(it continues inside a multi-line string or after a backslash), the statement's next line that can. Codes join an
existing `# noqa: ...` list; a bare `# noqa` is left alone. A notebook gets its comments cell by cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from nnlint import notebook
from nnlint.fix import parses, write_change
from nnlint.static.reading import UnreadableSource, read_source
from nnlint.suppress import NOQA, scan
from nnlint.text import NEWLINE
from nnlint.types import Finding


@dataclass
class NoqaOutcome:
    """Comments added per file (by display path), and notes on what could not be done."""

    added: Dict[str, int] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def add_noqa(
    findings: Sequence[Finding], paths: Mapping[str, Path], read_text: Callable[[str], Optional[str]]
) -> NoqaOutcome:
    """Add noqa comments for `findings` to their files; a file is written only if it is still the text linted."""
    outcome = NoqaOutcome()
    by_file: Dict[str, List[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.location.path, []).append(finding)
    for display in sorted(by_file):
        path = paths.get(display, Path(display))
        try:
            raw, text, encoding = read_source(path)
        except UnreadableSource as error:
            outcome.notes.append(f"{display}: not changed: {error}")
            continue
        if text != read_text(display):
            outcome.notes.append(f"{display} changed on disk while nnlint ran; no noqa comments were added")
            continue
        wanted = _codes_by_line(by_file[display], text)
        new_text, added, notes = with_noqa(text, wanted)
        outcome.notes += [f"{display}: {note}" for note in notes]
        if not added:
            continue
        if parses(text) and not parses(new_text):
            outcome.notes.append(f"{display}: adding noqa comments would break the file; it was not changed")
            continue
        note = write_change(path, raw, new_text, encoding, display, "no noqa comments were added")
        if note is not None:
            outcome.notes.append(note)
            continue
        outcome.added[display] = added
    return outcome


def _codes_by_line(findings: Sequence[Finding], text: str) -> Dict[int, Set[str]]:
    """The codes to silence per line of `text` (a notebook's findings point at cells: back to program lines)."""
    wanted: Dict[int, Set[str]] = {}
    positions = notebook.cell_positions(text) if any(f.location.cell is not None for f in findings) else ()
    for finding in findings:
        line: Optional[int] = finding.location.line
        if finding.location.cell is not None:
            at = (finding.location.cell, finding.location.line)
            line = next((index + 1 for index, place in enumerate(positions) if place == at), None)
        if line is not None:
            wanted.setdefault(line, set()).add(finding.code)
    return wanted


def with_noqa(text: str, wanted: Mapping[int, Set[str]]) -> Tuple[str, int, List[str]]:
    """`text` with the codes of `wanted` (line -> codes) in noqa comments; (new text, comments added or extended,
    notes on lines left alone)."""
    scanned = scan(text)
    notes: List[str] = []
    if not scanned.tokenized:
        return text, 0, ["the file does not tokenize as Python; no noqa comments were added"]
    pieces = _lines_with_endings(text)
    comments = {line: (column, comment) for line, column, comment in scanned.comments}
    by_target: Dict[int, Set[str]] = {}
    for line, codes in sorted(wanted.items()):
        target = line
        while target in scanned.continued:
            target += 1
        if not 1 <= target <= len(pieces):
            notes.append(f"line {line}: no line after it can hold a comment; add the noqa by hand")
            continue
        by_target.setdefault(target, set()).update(codes)
    added = 0
    for target, codes in by_target.items():
        content, ending = pieces[target - 1]
        changed = _merged(content, comments.get(target), codes)
        if changed != content:
            pieces[target - 1] = (changed, ending)
            added += 1
    return "".join(content + ending for content, ending in pieces), added, notes


def _merged(content: str, comment: Optional[Tuple[int, str]], codes: Set[str]) -> str:
    """The line with `codes` in its noqa comment: joined to an existing list, or a new comment at the end."""
    if comment is not None:
        column, text = comment
        match = NOQA.search(text)
        if match is not None:
            if match.group("codes") is None:
                return content  # a bare noqa comment silences every code already
            listed = [part for part in match.group("codes").replace(",", " ").split() if part]
            missing = sorted(code for code in codes if code.upper() not in {part.upper() for part in listed})
            if not missing:
                return content
            end = column + match.end("codes")
            return content[:end] + ", " + ", ".join(missing) + content[end:]
    return content.rstrip(" \t") + "  # noqa: " + ", ".join(sorted(codes))


def _lines_with_endings(text: str) -> List[Tuple[str, str]]:
    """(content, line ending) per line, with Python's line breaks only; a last line without one has ''."""
    pieces, start = [], 0
    for match in NEWLINE.finditer(text):
        pieces.append((text[start : match.start()], match.group()))
        start = match.end()
    if start < len(text):
        pieces.append((text[start:], ""))
    return pieces
