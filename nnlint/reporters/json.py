"""JSON: an array of findings with a fixed, documented set of keys (see README, "JSON output")."""

from __future__ import annotations

import json
from typing import Sequence, TextIO

from nnlint.reporters.base import ReportContext, Reporter
from nnlint.types import Finding


class JsonReporter(Reporter):
    """One JSON array; keys: code, name, severity, pass, path, line, column, end_line, end_column, message, fix."""

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        json.dump([finding.to_dict() for finding in findings], out, indent=2, ensure_ascii=False)
        out.write("\n")
