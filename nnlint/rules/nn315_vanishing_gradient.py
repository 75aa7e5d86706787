"""NN315: gradients too small to train the layers near the input."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class VanishingGradient(ProbeRule):
    """Gradients at some layers are vanishingly small, or shrink by orders of magnitude towards the input (rules/NN315.md)."""

    code = "NN315"
    name = "vanishing-gradient"
    severity = Severity.WARNING
    options = (
        Option("mean_abs", 1e-11, "mean |gradient| of a weight tensor below which it is reported"),
        Option("first_last_ratio", 1e-7, "gradient RMS at the first layer over the last below which it is reported"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Step-0 gradients of weight tensors: mean |g| below `mean_abs`, or RMS at the first layer over the last below the ratio."""
        if ctx.facts.nonfinite is not None:
            return
        weights = sorted(
            (p for p in ctx.facts.params if p.is_weight and p.grad_mean_abs > 0 and p.order >= 0), key=lambda p: p.order
        )
        tiny = [p for p in weights if p.grad_mean_abs < ctx.option(self, "mean_abs")]
        if tiny:
            first = tiny[0]
            others = (
                f" ({len(tiny) - 1} other weight tensor{'s' if len(tiny) > 2 else ''} too)" if len(tiny) > 1 else ""
            )
            self.report(
                ctx.where_module(first.name),
                f"The gradient of `{first.name}` has mean |g| = {number(first.grad_mean_abs)} at initialisation{others}: "
                "too small for any usual learning rate to move these weights, so the layers near the input barely "
                "train. Typical causes: saturating activations (sigmoid/tanh) stacked deep, a poor initialisation, or "
                "no normalisation or residual connections. Use ReLU-family activations with Kaiming init, add "
                "BatchNorm/LayerNorm, or residual connections.",
            )
            return
        if len(weights) >= 2:
            first, last = weights[0], weights[-1]
            ratio = _rms(first) / max(_rms(last), 1e-30)
            if ratio < ctx.option(self, "first_last_ratio"):
                self.report(
                    ctx.where_module(first.name),
                    f"The gradient at the first layer `{first.name}` (RMS {number(_rms(first))}) is {number(ratio)}× the "
                    f"one at the last layer `{last.name}` (RMS {number(_rms(last))}): it vanishes on the way back, so the "
                    "early layers learn orders of magnitude slower than the late ones. Add normalisation or residual "
                    "connections, avoid saturating activations, and check the initialisation.",
                )


def _rms(param) -> float:
    count = math.prod(param.shape) or 1
    return param.grad_norm / math.sqrt(count)
