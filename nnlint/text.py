"""Line handling shared by reporters and fixes: Python's newlines are \\r\\n, \\r and \\n, nothing else."""
from __future__ import annotations

import re
from typing import List

NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> List[str]:
    """The lines of a source text without their endings (unlike str.splitlines, ignores \\f, \\v, \\x1c...)."""
    return NEWLINE.split(text)
