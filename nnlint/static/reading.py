"""Reading a source file's bytes into text the way Python would, or saying clearly why not."""
from __future__ import annotations

import codecs
import io
import tokenize
from pathlib import Path
from typing import Tuple


class UnreadableSource(Exception):
    """The file cannot be read or decoded; the message says why in the user's terms."""


def read_source(path: Path) -> Tuple[bytes, str, str]:
    """(raw bytes, decoded text, encoding), honouring a BOM and a PEP 263 coding line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if path.is_symlink():
            raise UnreadableSource("broken symbolic link: its target does not exist") from None
        raise UnreadableSource("file disappeared while nnlint was running") from None
    except IsADirectoryError:
        raise UnreadableSource("is a directory, not a file") from None
    except PermissionError:
        raise UnreadableSource("permission denied: nnlint cannot read this file") from None
    except OSError as error:
        raise UnreadableSource(f"cannot be read: {error.strerror or error}") from None
    return (raw, *decode(raw))


def decode(raw: bytes) -> Tuple[str, str]:
    """Decode source bytes; raise UnreadableSource for binary or mis-encoded files."""
    if b"\x00" in raw:
        raise UnreadableSource("contains NUL bytes: a binary file, not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        raise UnreadableSource(f"has an invalid encoding declaration ({error})") from None
    try:
        codecs.lookup(encoding)
        text = raw.decode(encoding)
    except LookupError:
        raise UnreadableSource(f"declares an unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableSource(
            f"is not valid {encoding} (byte 0x{raw[error.start]:02x} at line {line}); "
            "save it as UTF-8 or declare its encoding with a `# -*- coding: ... -*-` line"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, encoding

