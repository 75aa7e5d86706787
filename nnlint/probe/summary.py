"""Turning the probe's facts into a ProbeReport: the per-layer table rows and the outcome of each check."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Type

import torch

from nnlint import registry
from nnlint.probe.context import ProbeContext
from nnlint.probe.facts import JUDGED, STEP_ZERO, TRAINING, Facts
from nnlint.probe.report import ProbeReport
from nnlint.rule import Need, ProbeRule
from nnlint.types import Pass

if TYPE_CHECKING:
    from nnlint.probe.setup import Setup


def build(setup: "Setup", ctx: ProbeContext, timings: Dict[str, float], seconds: float) -> ProbeReport:
    """The report of one probe."""
    facts = ctx.facts
    loss = facts.loss
    overfit = {k: v for k, v in asdict(facts.overfit).items() if k != "losses"}
    overfit["tried"] = [list(setting) for setting in facts.overfit.tried]  # plain JSON: lists, not tuples
    return ProbeReport(
        setup.name,
        tuple(ctx.findings),
        tuple(rows(ctx)),
        checks(setup, ctx),
        str(setup.device),
        setup.seed,
        torch.__version__.split("+")[0],
        setup.input_description,
        setup.task,
        loss.loss_name if loss else "",
        loss.initial if loss else None,
        loss.expected if loss else None,
        loss.expected_why if loss else "",
        overfit,
        {k: round(v, 4) for k, v in timings.items()},
        round(seconds, 4),
        tuple(setup.notes),
        setup.fallback.path,
        setup.fallback.line,
    ).with_findings(ctx.findings)


def checks(setup: "Setup", ctx: ProbeContext) -> Dict[str, str]:
    """Per selected probe check: passed, failed, or why it was skipped or inconclusive."""
    failed = {f.code for f in ctx.findings}
    outcome = {}
    for code in sorted(setup.codes):
        rule = registry.BY_CODE.get(code)
        if rule is None or Pass.PROBE not in rule.passes or code.startswith("NN0") or not issubclass(rule, ProbeRule):
            continue
        if code in failed:
            outcome[code] = "failed"
        else:
            outcome[code] = _not_run(rule, ctx.facts) or ctx.facts.statuses.get(code, "passed")
    return outcome


def _not_run(rule: Type[ProbeRule], facts: Facts) -> Optional[str]:
    """Why a check had nothing to judge: a check that could not run is never reported as passed."""
    if STEP_ZERO not in facts.completed:
        return "not run: the probe stopped before its first step finished (NN013)"
    if JUDGED not in facts.completed:
        return "not run: the probe stopped before the checks could judge what it measured (NN013)"
    if TRAINING not in facts.completed and rule.needs & {Need.OVERFIT, Need.USER_OPTIMIZER}:
        return "not run: a training step failed (NN013)"
    return None


def rows(ctx: ProbeContext) -> List[Dict[str, Any]]:
    """The per-layer table: layers with parameters in forward order, and activation calls where they ran.

    Rows carry no source lines: locating ~100 layers costs seconds of `inspect` (findings locate their own)."""
    facts = ctx.facts
    layers: Dict[str, List] = {}
    for param in facts.params:
        if param.order >= 0:
            layers.setdefault(param.module, []).append(param)
    found = []
    for module, params in sorted(layers.items(), key=lambda item: item[1][0].order):
        main = next((p for p in params if p.is_weight), params[0])
        mean, std = facts.layer_outputs.get(module, (None, None))
        found.append(
            (
                {
                    "name": module or "(model)",
                    "type": main.module_type,
                    "param": main.name,
                    "grad_norm": main.grad_norm if main.had_grad else None,
                    "grad_mean": main.grad_mean_abs if main.had_grad else None,
                    "grad_max": main.grad_max_abs if main.had_grad else None,
                    "update_ratio": main.update_ratio,
                    "act_mean": mean,
                    "act_std": std,
                },
                (main.order, 0),
            )
        )
    for site in facts.activations:
        share = site.dead_units / site.units if site.units else None
        saturation = site.saturated_units / site.units if site.units else None
        found.append(
            (
                {
                    "name": site.name,
                    "type": site.kind,
                    "dead": share if site.kind == "relu" else None,
                    "saturated": saturation if site.kind != "relu" else None,
                    "act_mean": site.mean,
                    "act_std": site.std,
                },
                (site.position - 1, 1),
            )
        )
    return [row for row, _ in sorted(found, key=lambda item: item[1])]
