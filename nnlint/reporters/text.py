"""Plain text: `path:line:col: CODE [name] message` (`path:cell N:line:col:` in notebooks), one finding a line, clickable in terminals and IDEs."""

from __future__ import annotations

from typing import Sequence, TextIO

from nnlint.reporters.base import ReportContext, Reporter
from nnlint.reporters.statistics import statistics_lines
from nnlint.types import Finding


class TextReporter(Reporter):
    """No colour, no wrapping: made for grep, editors and CI logs."""

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        if ctx.statistics:
            for line in statistics_lines(findings):
                out.write(line + "\n")
            return
        for finding in findings:
            message = " ".join(finding.message.split())
            out.write(f"{finding.location.place()}: {finding.code} [{finding.name}] {message}\n")
        if findings:
            count = len(findings)
            out.write(
                f"Found {count} finding{'s' if count != 1 else ''} in {ctx.files_checked} file{'s' if ctx.files_checked != 1 else ''} checked.\n"
            )
