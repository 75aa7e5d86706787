"""Small helpers for probe messages: places and numbers in the user's terms. No torch here."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from nnlint.types import Location


def at(where: Optional[Location]) -> str:
    """ " at model.py:31" for a known position, else ""."""
    return f" at {Path(where.path).name}:{where.line}" if where else ""


def number(value: Optional[float]) -> str:
    """A compact number: 0.00123 -> 1.23e-03, 2.5 -> 2.5."""
    if value is None:
        return "-"
    if value != value:  # NaN
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.2e}"


def listing(names: Sequence[str], limit: int = 4) -> str:
    """`a`, `b` and 3 more."""
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
