"""NN411: an optimizer step does not change a trainable parameter."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Dict, List

from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class ParameterNotUpdated(ProbeRule):
    """A trainable parameter is missing from the optimizer's param groups, or an optimizer step leaves it unchanged (rules/NN411.md)."""

    code = "NN411"
    name = "parameter-not-updated"
    severity = Severity.ERROR
    needs = frozenset({Need.USER_OPTIMIZER})
    # below this mean |gradient| an update may round away in float32 (that is NN315's business)
    options = (Option("min_gradient", 1e-6, "mean |gradient| below which an unchanged parameter is not reported"),)

    def check_probe(self, ctx: ProbeContext) -> None:
        """One finding per module with parameters outside the optimizer, or unchanged after a step despite a gradient."""
        outside: Dict[str, List] = {}
        unchanged: Dict[str, List] = {}
        for param in ctx.facts.params:
            if param.in_optimizer is False:
                outside.setdefault(param.module, []).append(param)
            elif param.changed is False and param.grad_mean_abs >= ctx.option(self, "min_gradient") and param.finite:
                if param.update_ratio is not None and 0 < param.update_ratio < 1e-4:
                    continue  # steps too small to show in float32: NN412 reports the learning rate
                if param.lr and _rounds_away(param):
                    continue
                unchanged.setdefault(param.module, []).append(param)
        for params in outside.values():
            names = ", ".join(f"`{p.name}`" for p in params)
            self.report(
                ctx.where_module(params[0].name),
                f"{names} {'is' if len(params) == 1 else 'are'} trainable (requires_grad=True) but in none of your "
                "optimizer's param groups: it gets gradients and never changes. Build the optimizer from "
                "`model.parameters()` after every layer is created, or add a param group for it "
                "(freeze it with `requires_grad_(False)` if it should stay fixed).",
            )
        for params in unchanged.values():
            names = ", ".join(f"`{p.name}`" for p in params)
            lr = params[0].lr
            hint = (
                " Its param group has lr = 0."
                if lr == 0
                else (
                    " Something resets it: forward or a hook overwrites it (`.data =`, `copy_`, re-initialisation), or "
                    "the optimizer holds a copy of it instead of the parameter itself."
                )
            )
            self.report(
                ctx.where_module(params[0].name),
                f"{names} had a non-zero gradient but an optimizer step left {'it' if len(params) == 1 else 'them'} "
                f"exactly unchanged, so {'it does' if len(params) == 1 else 'they do'} not train.{hint}",
            )


def _rounds_away(param) -> bool:
    """An SGD-like step lr·g far below float32 resolution at the weight's typical size leaves it unchanged by
    rounding (a BatchNorm scale of 1.0 with a gradient of 1e-6 at lr 0.05): not a bug."""
    typical = param.weight_norm / math.sqrt(max(math.prod(param.shape), 1))
    return param.lr * param.grad_max_abs < 1e-6 * typical
