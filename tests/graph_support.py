"""Running the graph pass in-process for tests: one torch import, no worker start-up per example."""

from __future__ import annotations

from pathlib import Path
from typing import List

from nnlint import registry
from nnlint.graph.discovery import discover_models
from nnlint.static.engine import check_sources
from nnlint.static.project import ProjectIndex
from nnlint.types import Finding, Pass


def graph_findings(source: str, folder: Path, name: str = "example.py") -> List[Finding]:
    """Graph findings for every model the file defines (discovered as `nnlint src/` would)."""
    from nnlint.graph.engine import check_target

    path = folder / name
    path.write_text(source, encoding="utf-8")
    project = ProjectIndex()
    check_sources([(name, source)], [], project)
    rules = [rule for rule in registry.BY_CODE.values() if Pass.GRAPH in rule.passes]
    findings: List[Finding] = []
    for target in discover_models(project):
        findings.extend(check_target(target, folder, rules).findings)
    return findings
