"""The graph pass in isolated workers: its WorkerKind and `run_targets`. No torch here (the worker side imports it).

The worker side (`_warm_up`, `_run`) runs inside `python -m nnlint.isolation.worker nnlint.graph.isolated:GRAPH`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from nnlint.graph.result import GraphResult
from nnlint.graph.targets import GraphTarget
from nnlint.isolation.kind import WorkerKind
from nnlint.isolation.protocol import Job
from nnlint.isolation.supervise import Limits, run_isolated
from nnlint.types import Pass


def _warm_up() -> None:
    from nnlint.graph.engine import warm_up

    warm_up()  # torch's import and first meta kernels cost seconds: not any target's time


def _run(job: Job, target: Dict[str, Any]) -> GraphResult:
    from nnlint import registry
    from nnlint.graph.engine import check_target

    rules = registry.rules_for(job.codes)
    summary, options = job.options.get("summary", False), job.options.get("rules")
    return check_target(GraphTarget.from_json(target), Path(job.root), rules, summary, options)


GRAPH: WorkerKind[GraphResult] = WorkerKind(
    name="graph",
    reference=f"{__name__}:GRAPH",
    warm_up=_warm_up,
    run=_run,
    from_dict=GraphResult.from_dict,
    aborted=GraphResult.aborted,
    pass_=Pass.GRAPH,
    advice="or skip it with `--no-graph`",
    env={"OMP_NUM_THREADS": "1"},  # meta tensors need no compute threads
)


def run_targets(
    targets: Sequence[GraphTarget],
    root: Path,
    codes: Sequence[str],
    limits: Optional[Limits] = None,
    summary: bool = False,
    options: Optional[Dict[str, Any]] = None,
) -> List[GraphResult]:
    """Check every target in isolated workers (default limits: 60 s, no memory cap, one worker); the result
    list lines up with `targets`. `options`: extra job options (`rules`: the rules' option values)."""
    return run_isolated(GRAPH, targets, root, codes, limits or Limits(), {**(options or {}), "summary": summary})
