"""Which files of a large run contain an identifier, without scanning (or unpacking) every text.

Cross-file questions ("who calls `train(`", "who builds a `Trainer(`") name identifiers. On a large run the texts
are packed (packed_text.py), so a question answered by scanning would unpack every one of them; this index gives
the few files that can match, and the question's own test (`project.mentions_all`) is then run on those only.

Never imports torch."""

from __future__ import annotations

import re
import zlib
from array import array
from typing import Iterable, List, Optional, Sequence, Set, Tuple

from nnlint.static.packed_text import text_of

_TOKEN = re.compile(r"\w+")  # \w is str.isalnum() or "_": the same characters mentions_all calls a word's
_BUCKETS = 4096
_POSITION_BITS = 24  # files of one run: up to 16 million
_POSITION_MASK = (1 << _POSITION_BITS) - 1


class WordIndex:
    """The identifiers (maximal runs of word characters) of each text of a run, by source position. Stored as
    one 56-bit entry (crc32 of the identifier, position) per distinct identifier of a file, in buckets by hash:
    ~8 bytes per identifier per file (31 MB for a whole site-packages), where a dict of sets took 190 MB. crc32,
    not `hash()`: a spawned worker's string hashes differ from its parent's."""

    def __init__(self, sources: Sequence[Tuple[str, object]]) -> None:
        self.displays = [display for display, _ in sources]
        self._known = set(self.displays)
        self._buckets = [array("Q") for _ in range(_BUCKETS)]
        for position, (_, value) in enumerate(sources):
            text = text_of(value)
            if text is not None:
                for token in set(_TOKEN.findall(text)):
                    key = _key(token)
                    self._buckets[key % _BUCKETS].append(key << _POSITION_BITS | position)

    def knows(self, display: str) -> bool:
        """Whether the index was built with this file's text."""
        return display in self._known

    def having(self, tokens: Iterable[str]) -> Optional[Set[str]]:
        """The display paths of the texts that contain every one of `tokens` as a whole identifier (a hash
        collision may add a few: callers test each text); None when no token is given (any text may match)."""
        found: Optional[Set[int]] = None
        for token in tokens:
            key = _key(token)
            positions = {
                entry & _POSITION_MASK for entry in self._buckets[key % _BUCKETS] if entry >> _POSITION_BITS == key
            }
            found = positions if found is None else found & positions
            if not found:
                break
        return None if found is None else {self.displays[position] for position in found}


def _key(token: str) -> int:
    return zlib.crc32(token.encode("utf-8", "surrogatepass"))


def required_tokens(words: Sequence[str]) -> List[str]:
    """The identifiers any text that mentions every word (project.mentions_all) must contain whole: `train(`
    (no word character may come before a call, and `(` ends it) and `.step(` give `train` and `step`. A plain
    word (`init`) may be part of a longer identifier: it gives none."""
    found = []
    for word in words:
        if word.endswith("("):
            name = word[1:-1] if word.startswith(".") else word[:-1]
            if name.isidentifier():
                found.append(name)
    return found
