"""What a static rule sees of the file being checked, and where its findings go."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

import libcst as cst

from nnlint.types import Edit, Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import Rule
    from nnlint.static.semantics import FileSemantics


class StaticContext:
    """One file under check: its display path, source, dataflow, and the findings reported so far."""

    def __init__(self, path: str, source: str, semantics: "FileSemantics") -> None:
        self.path = path
        self.source = source
        self.semantics = semantics
        self.findings: List[Finding] = []

    def location(self, node: cst.CSTNode, symbol: Optional[str] = None) -> Location:
        """1-based location of a node (libcst columns are 0-based)."""
        span = self.semantics.positions[node]
        return Location(self.path, span.start.line, span.start.column + 1, span.end.line, span.end.column + 1, symbol)

    def report(
        self,
        rule: "Rule",
        at: "cst.CSTNode | Location",
        message: str,
        *,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> None:
        """Record a finding of `rule` at a node (or a location) of this file."""
        location = at if isinstance(at, Location) else self.location(at)
        self.findings.append(rule.finding(location, message, Pass.STATIC, fix, severity))

    def replace(self, node: cst.CSTNode, text: str) -> Edit:
        """An edit that replaces the source of `node` with `text`."""
        span = self.semantics.positions[node]
        return Edit(span.start.line, span.start.column + 1, span.end.line, span.end.column + 1, text)

    def insert_after(self, node: cst.CSTNode, text: str) -> Edit:
        """An edit that inserts `text` right after `node`."""
        span = self.semantics.positions[node]
        return Edit(span.end.line, span.end.column + 1, span.end.line, span.end.column + 1, text)
