"""NN316: gradients far larger than the weights they update."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class ExplodingGradient(ProbeRule):
    """Gradients are far larger than the weights, or grow by orders of magnitude towards the input (rules/NN316.md)."""

    code = "NN316"
    name = "exploding-gradient"
    severity = Severity.WARNING
    options = (
        Option("relative", 2e3, "||gradient|| / ||weight|| above which a weight tensor is reported"),
        Option("last_first_ratio", 1e-4, "gradient RMS at the last layer over the first below which it is reported"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Step-0 gradients of weight tensors: ||g||/||θ|| above `relative`, or RMS at the last layer over the first below the ratio."""
        if ctx.facts.nonfinite is not None:
            return
        weights = sorted(
            (p for p in ctx.facts.params if p.is_weight and p.grad_mean_abs > 0 and p.order >= 0), key=lambda p: p.order
        )
        limit = ctx.option(self, "relative")
        large = [p for p in weights if p.weight_norm > 0 and p.grad_norm / p.weight_norm > limit]
        if large:
            worst = max(large, key=lambda p: p.grad_norm / p.weight_norm)
            others = (
                f" ({len(large) - 1} other weight tensor{'s' if len(large) > 2 else ''} too)" if len(large) > 1 else ""
            )
            self.report(
                ctx.where_module(worst.name),
                f"At initialisation the gradient of `{worst.name}` is {number(worst.grad_norm / worst.weight_norm)}× the "
                f"norm of the weights themselves (||g|| = {number(worst.grad_norm)}, ||θ|| = {number(worst.weight_norm)})"
                f"{others}: a single step of any usual learning rate overshoots, and training diverges or turns NaN. "
                "Check the initialisation scale, add normalisation, scale the loss down, or clip gradients "
                "(`torch.nn.utils.clip_grad_norm_`).",
            )
            return
        if len(weights) >= 2:
            first, last = weights[0], weights[-1]
            ratio = _rms(last) / max(_rms(first), 1e-30)
            if ratio < ctx.option(self, "last_first_ratio"):
                self.report(
                    ctx.where_module(first.name),
                    f"The gradient at the first layer `{first.name}` (RMS {number(_rms(first))}) is {number(1 / ratio)}× "
                    f"the one at the last layer `{last.name}` (RMS {number(_rms(last))}): it grows on the way back, so "
                    "early layers take huge steps while late ones barely move. Add normalisation, check the "
                    "initialisation (too-large weights compound through depth), or clip gradients.",
                )


def _rms(param) -> float:
    count = math.prod(param.shape) or 1
    return param.grad_norm / math.sqrt(count)
