"""The rule pages (rules/NNxxx.md): found in the installed package or, in a checkout, beside it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

_PACKAGED = Path(__file__).resolve().parent / "_pages"
_CHECKOUT = Path(__file__).resolve().parent.parent / "rules"


def pages_dir() -> Path:
    """Where the rule pages are: packaged with the wheel, else the repository's rules/ folder."""
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def page_text(code: str) -> Optional[str]:
    """The markdown page of a rule code, or None if it has none."""
    path = pages_dir() / f"{code}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None
