"""`nnlint.probe(model, ...)`: prove a model trains, from a unit test: `assert report.ok, report`."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Dict, Iterable, Optional, Union

import torch
from torch import nn

from nnlint import locate, suppress
from nnlint.graph.loading import is_user_file
from nnlint.probe import baseline as baselines
from nnlint.probe import engine
from nnlint.probe.data import UsageProblem
from nnlint.probe.report import ProbeReport
from nnlint.probe.setup import SetupProblem, codes_for, make_setup
from nnlint.registry import BY_CODE
from nnlint.types import Location, Pass


def probe(
    model: nn.Module,
    inputs: Any = None,
    targets: Any = None,
    loss_fn: Optional[Callable] = None,
    task: Optional[str] = None,
    num_classes: Optional[int] = None,
    optimizer: Optional[torch.optim.Optimizer] = None,
    steps: Optional[int] = None,
    device: Union[str, torch.device] = "auto",
    seed: int = 0,
    select: Optional[Iterable[str]] = None,
    ignore: Iterable[str] = (),
    options: Optional[Dict[str, Dict[str, Any]]] = None,
    budget: Optional[float] = None,
    baseline: Optional[Union[str, Path]] = None,
) -> ProbeReport:
    """Run the probe's checks on `model` and return a ProbeReport; the model and optimizer are left as they were.

    inputs: a tensor, a tuple of tensors or a dict of keyword tensors (dimension 0 is the batch); None infers
    them from the first layer. targets/loss_fn/task ("multiclass", "binary", "multilabel", "regression")
    say how to compute the loss; without any, a surrogate loss checks gradient flow only. optimizer: yours,
    to check its param groups, step sizes and weight decay. steps: the overfit test's step limit (200).
    budget: seconds of optimizer steps (10 on CPU). options: thresholds by rule, e.g. {"NN313": {"warn_fraction": 0.8}}.
    baseline: a JSON file saved with `report.save_baseline(path)`; drift from it becomes NN502 findings.
    """
    fallback = locate.class_source(type(model)) or caller_location()
    codes = codes_for(select, ignore)
    try:
        setup = make_setup(
            model,
            inputs=inputs,
            targets=targets,
            loss_fn=loss_fn,
            task=task,
            num_classes=num_classes,
            optimizer=optimizer,
            steps=steps,
            device=device,
            seed=seed,
            codes=codes,
            options=options,
            budget=budget,
            fallback=fallback,
        )
    except SetupProblem as problem:
        hint = " Pass `inputs=`." if problem.code == "NN014" else ""
        finding = BY_CODE[problem.code].finding(
            problem.where or fallback,
            f"Cannot probe `{type(model).__name__}`: {problem}.{hint}",
            Pass.PROBE,
        )
        return ProbeReport(type(model).__name__, (finding,))
    except UsageProblem as problem:
        raise ValueError(str(problem)) from None
    report = engine.run(setup)
    report = report.with_findings(suppress.apply(report.findings, _read_text))  # noqa comments work here too
    if baseline is not None:
        saved = baselines.load(Path(baseline))
        entry = saved.get(report.target)
        if entry is not None:
            report = report.with_findings(list(report.findings) + baselines.drift(report.to_dict(), entry, options))
    return report


def _read_text(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def caller_location() -> Location:
    """Where `nnlint.probe` (or `nnlint.watch`) was called from: the fallback location for models defined outside
    user files."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return Location(frame.f_code.co_filename, frame.f_lineno, 1)
        frame = frame.f_back
    return Location("<unknown>", 1, 1)
