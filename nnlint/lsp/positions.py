"""Positions both ways between nnlint (1-based lines, columns in code points) and LSP (0-based, client code units).

LSP counts a line's characters in the encoding agreed at initialization (UTF-16 unless the client
offers another), and its lines end at \\r\\n, \\r or \\n only: the same lines Python and nnlint see.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import List, Tuple

from nnlint.text import line_starts

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def code_units(text: str, encoding: str = UTF16) -> int:
    """How many code units of `encoding` the text takes."""
    if text.isascii() or encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)  # astral characters are surrogate pairs


def _char_units(char: str, encoding: str) -> int:
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


class LineIndex:
    """Where each line of one text starts, to convert positions in both directions."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self._starts: List[int] = line_starts(text)

    @property
    def line_count(self) -> int:
        """Number of lines (a text ending in a newline has an empty last line)."""
        return len(self._starts)

    def line_text(self, index: int) -> str:
        """Line `index` (0-based) without its ending."""
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def to_client(self, line: int, column: int) -> Tuple[int, int]:
        """nnlint's 1-based (line, column) -> LSP's 0-based (line, character), clamped to the text."""
        index = line - 1
        if index < 0:
            return 0, 0
        if index >= len(self._starts):
            last = len(self._starts) - 1
            return last, code_units(self.line_text(last), self.encoding)
        text = self.line_text(index)
        return index, code_units(text[: max(0, min(column - 1, len(text)))], self.encoding)

    def to_nnlint(self, line: int, character: int) -> Tuple[int, int]:
        """LSP's 0-based (line, character) -> nnlint's 1-based (line, column); past a line's end is its end."""
        if line >= len(self._starts):
            last = len(self._starts) - 1
            return last + 1, len(self.line_text(last)) + 1
        text = self.line_text(line)
        if text.isascii() or self.encoding == UTF32:
            return line + 1, min(character, len(text)) + 1
        units = 0
        for column, char in enumerate(text):
            if units >= character:
                return line + 1, column + 1
            units += _char_units(char, self.encoding)
        return line + 1, len(text) + 1

    def client_position_of(self, offset: int) -> Tuple[int, int]:
        """The LSP (line, character) of a string index."""
        index = bisect_right(self._starts, offset) - 1
        start = self._starts[index]
        return index, code_units(self.text[start:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The string index of an LSP position."""
        line_number, column = self.to_nnlint(line, character)
        return min(self._starts[line_number - 1] + column - 1, len(self.text))
