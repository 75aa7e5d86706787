"""Read step of the static pass: a source file's bytes into text the way Python would, or saying clearly why not.

Never imports torch."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from nnlint import notebook
from nnlint.rules.nn002_unreadable_file import UnreadableFile
from nnlint.static.packed_text import PACK_ABOVE_BYTES, PackedText
from nnlint.types import Finding, Location

# PEP 263: a coding declaration on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

# (display path, text) or the finding for a file that could not be read; a large run's texts are packed
Source = Tuple[str, "str | PackedText | Finding"]


class UnreadableSource(Exception):
    """The file cannot be read or decoded; the message is a full sentence, `line` where the problem is."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def read_all(files: Sequence[Tuple[Path, str]], texts: Optional[Dict[str, Optional[str]]] = None) -> List[Source]:
    """Each (path, display path) read once: its text, or an NN002 finding that says why it cannot be read.
    `texts`, if given, receives the exact texts read (fixes must apply to those, not to a newer save). Past
    PACK_ABOVE_BYTES of source (and without `texts`), the texts are kept packed."""
    sources: List[Source] = []
    size = 0
    for path, display in files:
        try:
            text = read_source(path)[1]
            if texts is not None:
                texts[display] = text
            size += len(text)
            if texts is None and size > PACK_ABOVE_BYTES:
                if size - len(text) <= PACK_ABOVE_BYTES:  # the first text past the limit: pack those before it
                    sources = [(d, PackedText(t) if isinstance(t, str) else t) for d, t in sources]
                sources.append((display, PackedText(text)))
            else:
                sources.append((display, text))
        except UnreadableSource as error:
            sources.append((display, UnreadableFile.finding(Location(display, error.line, 1), str(error))))
    return sources


def read_source(path: Path) -> Tuple[bytes, str, str]:
    """(raw bytes, decoded text, encoding), honouring a BOM and a PEP 263 coding line. A notebook's text is
    the program of its code cells (nnlint/notebook.py); it is never written back as such."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if path.is_symlink():
            raise UnreadableSource("File is a broken symbolic link: its target does not exist.") from None
        raise UnreadableSource("File disappeared while nnlint was running.") from None
    except IsADirectoryError:
        raise UnreadableSource("Path is a directory, not a Python file.") from None
    except PermissionError:
        raise UnreadableSource("Permission denied: nnlint cannot read this file.") from None
    except OSError as error:
        raise UnreadableSource(f"File cannot be read: {error.strerror or error}.") from None
    if notebook.is_notebook(path.name):
        try:
            return raw, notebook.program(raw), "utf-8"
        except notebook.NotebookError as error:
            raise UnreadableSource(str(error)) from None
    return (raw, *decode(raw))


def decode(raw: bytes) -> Tuple[str, str]:
    """Decode source bytes; raise UnreadableSource for binary or mis-encoded files."""
    if b"\x00" in raw:
        raise UnreadableSource(
            "File contains NUL bytes: it is a binary file, not Python source.",
            raw[: raw.index(b"\x00")].count(b"\n") + 1,
        )
    body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    declared = any(_CODING.match(line) for line in body.splitlines()[:2])
    encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    if declared:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
            codecs.lookup(encoding)
        except (SyntaxError, LookupError) as error:
            if body is not raw:
                raise UnreadableSource(
                    "File starts with a UTF-8 byte order mark but its coding line declares another "
                    "encoding, and Python refuses it: remove the mark or the coding line."
                ) from None
            raise UnreadableSource(f"File declares an encoding Python does not know ({error}).") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableSource(
            f"File is not valid {encoding.replace('-sig', '')} (byte 0x{raw[error.start]:02x} on line {line}): save it "
            "as UTF-8, or declare its encoding with a `# -*- coding: ... -*-` line.",
            line,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding
