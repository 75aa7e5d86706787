"""Source texts of a large run, kept compressed: every text stays in memory for cross-file questions, and as
Python strings a whole site-packages' 198 MB of source took 300 MB (a file with one character beyond Latin-1 is
stored at 2-4 bytes a character) in the parent and, shared page by page, in every forked worker.

Never imports torch."""

from __future__ import annotations

import re
import zlib
from typing import Iterable, List, Optional, Set, Tuple, Union

# Source read before texts are packed: a run below it keeps plain strings (no cost for a pre-commit run of a few
# files). The same size above which schedule.py sends a run to fresh workers in rounds.
PACK_ABOVE_BYTES = 8_000_000
_CLASS_NAME = re.compile(r"[ \t]+(\w+)")  # after the word `class` that begins a line


class PackedText:
    """One source text, zlib-compressed (about a quarter of its UTF-8 size); `text()` gives it back. The class
    names it defines are scanned when it is packed, since every round of workers asks for them."""

    __slots__ = ("_data", "length", "names")

    def __init__(self, text: str) -> None:
        self._data = zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
        self.length = len(text)
        self.names = class_names(text)

    def text(self) -> str:
        return zlib.decompress(self._data).decode("utf-8", "surrogatepass")

    def __len__(self) -> int:  # the text's length: what sizes of work and memory budgets are measured in
        return self.length


Text = Union[str, PackedText]
# What a source's value is when it is a text (plain or packed), not a Finding: `isinstance(value, TEXT_TYPES)`.
TEXT_TYPES = (str, PackedText)


def unpacked(text: Text) -> str:
    """A text as a string: itself, or a PackedText unpacked."""
    return text.text() if isinstance(text, PackedText) else text


def text_of(value: object) -> Optional[str]:
    """The text of a source's value, unpacked; None for anything else (a Finding that says why the file could not
    be read)."""
    return unpacked(value) if isinstance(value, TEXT_TYPES) else None


def class_names(text: "str | PackedText") -> frozenset:
    """Names of the classes a source defines, by a cheap scan of its text (a packed text's were scanned once)."""
    if isinstance(text, PackedText):
        return text.names
    # `^[ \t]*class[ \t]+(\w+)` line by line, found from the word: a multi-line pattern is tried at every
    # character of the file (5x the time)
    names: Set[str] = set()
    start = 0
    while True:
        at = text.find("class", start)
        if at < 0:
            return frozenset(names)
        start = at + 5
        if not text[text.rfind("\n", 0, at) + 1 : at].strip(" \t"):
            match = _CLASS_NAME.match(text, start)
            if match:
                names.add(match.group(1))


def sources_class_names(sources: Iterable[Tuple[str, object]]) -> List[frozenset]:
    """class_names of each (display path, value) source; none for a Finding (a file that could not be read)."""
    return [class_names(value) if isinstance(value, TEXT_TYPES) else frozenset() for _, value in sources]
