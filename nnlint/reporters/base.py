"""What every reporter gets, and the one method it implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence, TextIO

from nnlint.types import Finding


@dataclass(frozen=True)
class ReportContext:
    """Facts about the run a reporter may show: files checked, where sources live, colour, statistics."""

    files_checked: int = 0
    read_text: Callable[[str], Optional[str]] = field(default=lambda path: None)
    color: bool = False
    statistics: bool = False
    fixed: Dict[str, int] = field(default_factory=dict)


class Reporter:
    """Renders findings that were already suppressed, selected, deduplicated and sorted."""

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        """Write `findings` to `out`."""
        raise NotImplementedError
