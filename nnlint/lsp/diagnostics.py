"""Findings -> LSP diagnostics: the range in the client's units, the rule code linked to its page, the severity."""

from __future__ import annotations

from lsprotocol import types

from nnlint.lsp.positions import LineIndex
from nnlint.pages import page_url
from nnlint.types import Edit, Finding, Pass, Severity

SOURCE = "nnlint"

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def finding_range(finding: Finding, lines: LineIndex) -> types.Range:
    """Where a finding points; one without an end covers the rest of its line, so the editor can underline it."""
    loc = finding.location
    start = lines.to_client(loc.line, loc.column)
    if loc.end_line is None or loc.end_column is None:
        end = lines.to_client(loc.line, 1 << 30)
    else:
        end = lines.to_client(loc.end_line, loc.end_column)
    return client_range(start, max(start, end))


def edit_range(edit: Edit, lines: LineIndex) -> types.Range:
    """The range a fix's edit replaces."""
    start = lines.to_client(edit.line, edit.column)
    end = lines.to_client(edit.end_line, edit.end_column)
    return client_range(start, end)


def to_diagnostic(finding: Finding, lines: LineIndex) -> types.Diagnostic:
    """The LSP diagnostic of one finding of the document `lines` indexes."""
    # Graph findings are as old as the last save: say so, since the text may have moved on since.
    suffix = " (graph pass, at the last save)" if finding.pass_ is Pass.GRAPH else ""
    return types.Diagnostic(
        range=finding_range(finding, lines),
        message=f"{finding.message}{suffix}",
        severity=SEVERITIES[finding.severity],
        code=finding.code,
        code_description=types.CodeDescription(href=page_url(finding.code)),
        source=SOURCE,
    )


def client_range(start: tuple, end: tuple) -> types.Range:
    """An LSP range from two (line, character) pairs in client units."""
    return types.Range(
        start=types.Position(line=start[0], character=start[1]), end=types.Position(line=end[0], character=end[1])
    )
