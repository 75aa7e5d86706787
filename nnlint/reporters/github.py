"""GitHub Actions workflow commands: one `::error file=...::message` annotation per finding."""

from __future__ import annotations

from typing import List, Sequence, TextIO

from nnlint.reporters.base import ReportContext, Reporter
from nnlint.types import Finding, Severity

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


class GithubReporter(Reporter):
    """Annotations GitHub shows on the pull request's diff; nothing else is printed."""

    def render(self, findings: Sequence[Finding], out: TextIO, ctx: ReportContext) -> None:
        for finding in findings:
            out.write(workflow_command(finding) + "\n")


def workflow_command(finding: Finding) -> str:
    """`::level file=..,line=..,col=..[,endLine=..][,endColumn=..],title=CODE name::message`."""
    loc = finding.location
    message = finding.message
    properties: List[tuple] = [("file", loc.path)]
    if loc.cell is not None:
        # The diff GitHub annotates is the notebook's JSON, where a cell's line numbers mean nothing:
        # annotate the file and say where in the message.
        message = f"cell {loc.cell}, line {loc.line}: {message}"
    else:
        properties += [("line", loc.line), ("col", loc.column)]
        if loc.end_line is not None:
            properties.append(("endLine", loc.end_line))
        if loc.end_column is not None:
            properties.append(("endColumn", loc.end_column))
    properties.append(("title", f"{finding.code} {finding.name}"))
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {joined}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value, which also may not contain `:` or `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
