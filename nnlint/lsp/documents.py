"""An open document as the server knows it: the editor's text and version, and what nnlint found in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

from nnlint.lsp.positions import LineIndex
from nnlint.text import split_lines
from nnlint.types import Finding


@dataclass
class Document:
    """Text and version from the editor; static findings of version `linted`; graph findings of the last save.

    Graph findings are shown only where their line is unchanged since that save, so an edit above
    them never leaves them pointing at the wrong line.
    """

    uri: str
    path: Path  # where the file is (or would be): its config and neighbours are found from here
    text: str
    version: Optional[int]
    static: List[Finding] = field(default_factory=list)
    linted: Optional[int] = None
    graph: List[Finding] = field(default_factory=list)
    saved_text: str = ""  # the text the graph pass checked
    pending: Any = None  # the debounced lint (an asyncio task), cancelled by the next change

    def apply_change(self, new_text: str, client_range: Optional[tuple], encoding: str) -> None:
        """One content change: the whole text, or ((line, character), (line, character)) replaced by `new_text`.

        Applied here rather than by pygls, whose line splitting also breaks at \\f and \\u2028 and
        would disagree with the client's (and Python's) lines.
        """
        if client_range is None:
            self.text = new_text
            return
        (start_line, start_character), (end_line, end_character) = client_range
        lines = LineIndex(self.text, encoding)
        start = lines.offset(start_line, start_character)
        end = max(start, lines.offset(end_line, end_character))
        self.text = self.text[:start] + new_text + self.text[end:]

    def diagnosed(self) -> List[Finding]:
        """Static findings, plus the graph findings whose line is still as saved and not already reported."""
        seen = {(f.code, f.location.line) for f in self.static}
        now, then = split_lines(self.text), split_lines(self.saved_text)
        return self.static + [
            f
            for f in self.graph
            if (f.code, f.location.line) not in seen and _line(now, f.location.line) == _line(then, f.location.line)
        ]


def _line(lines: List[str], number: int) -> Optional[str]:
    return lines[number - 1] if 0 < number <= len(lines) else None
