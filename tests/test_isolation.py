"""Worker isolation's data, without starting workers: results and jobs survive JSON, isolation knows no pass."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from nnlint.graph.isolated import GRAPH
from nnlint.graph.result import GraphResult
from nnlint.isolation.kind import resolve
from nnlint.isolation.protocol import Job
from nnlint.isolation.supervise import Limits
from nnlint.probe.isolated import PROBE, ProbeResult
from nnlint.probe.report import ProbeReport
from nnlint.types import Finding, Location, Pass, Severity

PACKAGE = Path(__file__).resolve().parent.parent / "nnlint"
FINDING = Finding(
    "NN301", "shape-mismatch", "`self.fc` expects 512", Severity.ERROR, Pass.GRAPH, Location("/a.py", 3, 5)
)


def _imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return names | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def test_graph_result_survives_json():
    result = GraphResult([FINDING], "fx", "float[B, 3]", 0.5, [{"module": "(model)"}], {"trace": 0.1})
    assert GraphResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert GraphResult.from_dict({}) == GraphResult()


def test_probe_result_survives_json_with_and_without_a_report():
    report = ProbeReport("m.py:Net", (FINDING,), input="float32[16, 3]", checks={"NN301": "failed"})
    for result in (ProbeResult((FINDING,), report), ProbeResult.aborted(FINDING), ProbeResult()):
        assert ProbeResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_job_survives_json(tmp_path):
    job = Job(str(tmp_path), ("NN301",), ({"target": "m.py:Net"},), {"summary": True})
    job.write(tmp_path / "job.json")
    assert Job.read(tmp_path / "job.json") == job


def test_the_worker_finds_each_kind_by_its_reference():
    assert resolve(GRAPH.reference) is GRAPH and resolve(PROBE.reference) is PROBE


def test_limits_for_the_machine_cap_the_workers():
    assert Limits.for_machine(5.0, max_workers=1).workers == 1
    assert 1 <= Limits.for_machine(5.0).workers <= 4 and Limits.for_machine(5.0).seconds == 5.0


def test_isolation_knows_no_pass_and_the_probe_cli_borrows_nothing_from_the_cli():
    for path in (PACKAGE / "isolation").glob("*.py"):
        assert not any(name.startswith(("nnlint.graph", "nnlint.probe")) for name in _imports(path)), path
    assert "nnlint.cli" not in _imports(PACKAGE / "probe" / "cli.py")
