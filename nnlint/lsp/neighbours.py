"""The files beside an open document, for cross-file questions (a model defined in model.py, trained in train.py).

`nnlint check` analyses the files it checks together; in the editor the document's own folder plays
that part. Files are re-read only when they change on disk, and open documents win over the disk.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

from nnlint.discover import SOURCE_SUFFIXES
from nnlint.static.reading import UnreadableSource, read_source

MAX_FILES = 200  # a folder of generated code must not make every keystroke slow
MAX_BYTES = 1_000_000


class Neighbours:
    """Texts of the Python files in a document's folder, cached by modification time and size."""

    def __init__(self) -> None:
        self._cache: Dict[Path, Tuple[Tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def of(self, path: Path, open_documents: Mapping[Path, str]) -> Dict[Path, str]:
        """{path: text} of the other files beside `path`: the editor's text when open, else the disk's."""
        found: Dict[Path, str] = {}
        budget = MAX_BYTES
        try:
            candidates = sorted(p for p in path.parent.iterdir() if p.suffix in SOURCE_SUFFIXES and p.name != path.name)
        except OSError:
            candidates = []
        for candidate in candidates[:MAX_FILES]:
            text = open_documents.get(candidate)
            if text is None:
                text = self._read(candidate)
            if text is None or len(text) > budget:
                continue
            budget -= len(text)
            found[candidate] = text
        for other, text in open_documents.items():
            if other.parent == path.parent and other != path:
                found[other] = text
        return found

    def _read(self, path: Path) -> Optional[str]:
        try:
            status = path.stat()
        except OSError:
            return None
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if status.st_size > MAX_BYTES:
            return None
        try:
            text = read_source(path)[1]
        except UnreadableSource:
            return None
        with self._lock:
            self._cache[path] = (stamp, text)
        return text
