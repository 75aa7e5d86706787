"""Results per file, reused while the file, nnlint, the selected rules and every cross-file answer are unchanged.

An entry stores the file's findings, what its analysis asked about other files (has class X? what
does X.forward return?) and what its own classes' `forward` return. A warm run re-parses nothing:
an entry is reused when its content hash and salt match and every recorded answer still holds.
Entries are written atomically (temporary file + rename), so concurrent runs never read half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from nnlint import __version__

_PACKAGE = Path(__file__).resolve().parent.parent


def salt_for(codes: Iterable[str]) -> str:
    """What besides a file's text decides its findings: nnlint's code, the rules, libcst and Python."""
    import libcst

    state = hashlib.sha256()
    state.update(f"{__version__}|{sorted(codes)}|{getattr(libcst, '__version__', '')}|{sys.version_info[:2]}".encode())
    for source in sorted(_PACKAGE.rglob("*.py")):  # a development checkout changes without a new version
        info = source.stat()
        state.update(f"{source.relative_to(_PACKAGE)}|{info.st_size}|{info.st_mtime_ns}".encode())
    return state.hexdigest()


def digest(text: str) -> str:
    """The content key of a file."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Cache:
    """A folder of JSON entries, one per file path."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.folder = folder
        self.salt = salt

    def _entry_path(self, display: str) -> Path:
        return self.folder / (hashlib.sha256(display.encode("utf-8", "surrogatepass")).hexdigest()[:40] + ".json")

    def load(self, display: str, content: str) -> Optional[Dict[str, Any]]:
        """The entry for this file if it was made from the same content and salt."""
        try:
            entry = json.loads(self._entry_path(display).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("salt") != self.salt or entry.get("digest") != content:
            return None
        return entry

    def store(self, display: str, content: str, entry: Dict[str, Any]) -> None:
        """Write an entry atomically; a cache that cannot be written is silently skipped."""
        data = dict(entry, salt=self.salt, digest=content, path=display)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            handle, temporary = tempfile.mkstemp(dir=str(self.folder), suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(data))  # json.dump would stream through the pure-Python encoder: 10x slower
            os.replace(temporary, self._entry_path(display))
        except OSError:
            pass
