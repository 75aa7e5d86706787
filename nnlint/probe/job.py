"""Probing one configured target inside a worker: import it, build it with real weights, probe it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Optional

import torch

from nnlint import locate
from nnlint.graph.loading import LoadError, build, import_object
from nnlint.probe import engine
from nnlint.probe.data import UsageProblem, load_loss
from nnlint.probe.report import ProbeReport
from nnlint.probe.setup import SetupProblem, make_setup
from nnlint.probe.targets import ProbeTarget
from nnlint.probe.training import Adam
from nnlint.registry import BY_CODE
from nnlint.rules.nn010_model_import_failed import ModelImportFailed
from nnlint.rules.nn011_model_construction_failed import ModelConstructionFailed
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.types import Location, Pass


def warm_up() -> None:
    """One tiny training step, so that loading kernels and the optimizer costs no target's time."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 2)
    )
    model(torch.randn(2, 3, 8, 8))
    optimizer = Adam(list(model.parameters()))
    torch.nn.functional.cross_entropy(model(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1])).backward()
    optimizer.step()


def probe_target(target: ProbeTarget, root: Path, codes: Iterable[str], options: Dict[str, Any]) -> ProbeReport:
    """The report for one target; failures to import or build it are findings of the report.

    `options`: the run's settings (`seed`, `steps`, `device`) and the rule options under `rules`."""
    fallback = Location(*target.where(root))
    seed = int(options.get("seed", 0))
    torch.manual_seed(seed)  # the initial weights depend on it
    try:
        obj = import_object(target.target, root)
        fallback = _object_location(obj) or fallback
        model, example = build(obj, target.kwargs, device="cpu")
    except LoadError as error:
        rule = ModelImportFailed if error.stage == "import" else ModelConstructionFailed
        stage = "import" if error.stage == "import" else "build"
        message = f"Could not {stage} `{target.target}` to probe it: {error}. Make it {stage} without side effects, or fix the target in [[tool.nnlint.models]]."
        where = Location(*error.frame) if error.frame else fallback
        return _failed(target, rule.finding(where, message, Pass.PROBE))
    try:
        loss_fn = load_loss(target.loss) if target.loss else None
        setup = make_setup(
            model,
            inputs=example,
            task=target.task,
            num_classes=target.num_classes,
            loss_fn=loss_fn,
            steps=options.get("steps"),
            device=options.get("device", "auto"),
            seed=seed,
            codes=frozenset(codes),
            options=options.get("rules"),
            specs=target.inputs,
            name=target.target,
            fallback=fallback,
        )
    except SetupProblem as problem:
        hint = "; give `--input-shape` or `inputs` in [[tool.nnlint.models]]" if problem.code == "NN014" else ""
        finding = BY_CODE[problem.code].finding(
            problem.where or fallback, f"Cannot probe `{target.target}`: {problem}{hint}.", Pass.PROBE
        )
        return _failed(target, finding)
    except UsageProblem as problem:
        return _failed(
            target,
            ModelRunAborted.finding(fallback, f"Cannot probe `{target.target}`: {problem}.", Pass.PROBE),
        )
    return engine.run(setup)


def _failed(target: ProbeTarget, finding) -> ProbeReport:
    return ProbeReport(target.target, (finding,), path=finding.location.path, line=finding.location.line)


def _object_location(obj: Any) -> Optional[Location]:
    if isinstance(obj, type):
        return locate.class_source(obj)
    code = getattr(obj, "__code__", None)
    return Location(code.co_filename, code.co_firstlineno, 1) if code is not None else None
