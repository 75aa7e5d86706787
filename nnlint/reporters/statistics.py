"""Counts per rule for `--statistics`, shared by the text and rich reporters."""

from __future__ import annotations

from collections import Counter
from typing import List, Sequence, Tuple

from nnlint.types import Finding


def statistics_rows(findings: Sequence[Finding]) -> List[Tuple[int, str, str, str]]:
    """(count, code, name, severity) per rule, most frequent first, then by code."""
    counts = Counter((f.code, f.name, f.severity.value) for f in findings)
    return sorted(((n, code, name, sev) for (code, name, sev), n in counts.items()), key=lambda r: (-r[0], r[1]))


def statistics_lines(findings: Sequence[Finding]) -> List[str]:
    """Aligned plain-text lines: `count  CODE  name  severity`."""
    return [f"{count:>5}  {code}  {name}  {sev}" for count, code, name, sev in statistics_rows(findings)]
