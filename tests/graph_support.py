"""Running the graph pass in-process for tests: one torch import, no worker start-up per example."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from unittest import mock

from nnlint import registry, runner
from nnlint.config import Config
from nnlint.graph.discovery import discover_models
from nnlint.graph.result import GraphResult
from nnlint.graph.targets import GraphTarget
from nnlint.isolation.supervise import Limits
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


def targets_in_process(
    targets: Sequence[GraphTarget],
    root: Path,
    codes: Sequence[str],
    limits: Optional[Limits] = None,
    summary: bool = False,
    options: Optional[Dict[str, Any]] = None,
) -> List[GraphResult]:
    """`graph.isolated.run_targets` without the workers (limits do not apply): same contract, so the runner cannot
    tell. Only for models known to behave (no exit, hang or crash): isolation itself is tested in test_graph.py."""
    from nnlint.graph.engine import check_target

    rules = registry.rules_for(codes)
    rule_options = (options or {}).get("rules")
    return [check_target(target, root, rules, summary, rule_options) for target in targets]


def run_in_process(paths: Sequence[Path], config: Config, cwd: Path) -> runner.RunResult:
    """`nnlint PATHS` (static and graph passes, configured and discovered models, suppression, dedupe),
    with the graph targets checked in this process."""
    with mock.patch.object(runner, "run_targets", targets_in_process):
        return runner.run(paths, config, cwd)
