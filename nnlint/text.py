"""Line handling shared by reporters and fixes: Python's newlines are \\r\\n, \\r and \\n, nothing else."""

from __future__ import annotations

import re
from typing import List

NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> List[str]:
    """The lines of a source text without their endings (unlike str.splitlines, ignores \\f, \\v, \\x1c...)."""
    return NEWLINE.split(text)


def line_starts(text: str) -> List[int]:
    """The offset where each line of a text starts (a text ending in a newline has an empty last line)."""
    return [0] + [match.end() for match in NEWLINE.finditer(text)]
