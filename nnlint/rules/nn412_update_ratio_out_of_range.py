"""NN412: optimizer steps move weights far too much or far too little."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class UpdateRatioOutOfRange(ProbeRule):
    """Your optimizer's steps change weights by far more or far less than ~1e-3 of their norm (rules/NN412.md)."""

    code = "NN412"
    name = "update-ratio-out-of-range"
    severity = Severity.WARNING
    needs = frozenset({Need.USER_OPTIMIZER})
    options = (
        Option("low", 1e-4, "lowest accepted median update ratio ||Δθ||/||θ||"),
        Option("high", 1e-1, "highest accepted median update ratio ||Δθ||/||θ||"),
        Option("reported", 5, "how many weight tensors out of range are reported"),
        Option(
            "first_step_high",
            0.5,
            "highest accepted ||Δθ||/||θ|| of the first step (near 1: the step replaced the weights)",
        ),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """With the caller's optimizer: median ||Δθ||/||θ|| over steps 3-10 per weight tensor outside [low, high]."""
        if not ctx.facts.user_optimizer:
            ctx.status(
                self.code,
                "skipped: pass your optimizer (nnlint.probe(..., optimizer=...)); nnlint's own Adam says nothing about your learning rate",
            )
            return
        low, high = ctx.option(self, "low"), ctx.option(self, "high")
        first_high = ctx.option(self, "first_step_high")
        blown = [  # a zero-initialised weight is all update after its first step, by design
            p
            for p in ctx.facts.params
            if p.is_weight and p.weight_norm > 0 and (p.first_update_ratio or 0.0) > first_high
        ]
        if blown:
            worst = max(blown, key=lambda p: p.first_update_ratio or 0.0)
            more = f" ({len(blown)} weight tensors alike)" if len(blown) > 1 else ""
            self.report(
                ctx.where_module(worst.name),
                f"Your optimizer's first step changes `{worst.name}` by {number(worst.first_update_ratio)}× its norm "
                f"(||Δθ||/||θ|| after the step; healthy is about 1e-3, near 1 the step replaced the weights){more}: the "
                "learning rate is far too high for this model, and training diverges or kills its units at once. "
                "Lower the learning rate (or this layer's, with a param group), or use warm-up.",
            )
            return
        outside = [
            p
            for p in ctx.facts.params
            if p.is_weight and p.update_ratio is not None and p.update_ratio > 0 and not low <= p.update_ratio <= high
        ]
        outside.sort(key=lambda p: abs(_log(p.update_ratio or 0.0)), reverse=True)
        limit = int(ctx.option(self, "reported"))
        for param in outside[:limit]:
            more = f" ({len(outside)} weight tensors are out of range)" if len(outside) > 1 else ""
            if param.update_ratio > high:
                effect = "each step rewrites a large part of the weights: training is unstable or diverges. Lower the learning rate"
            else:
                effect = "the weights barely move: training is very slow. Raise the learning rate"
            self.report(
                ctx.where_module(param.name),
                f"Your optimizer's steps change `{param.name}` by {number(param.update_ratio)} of its norm per step "
                f"(median ||Δθ||/||θ|| over steps 3-10; healthy is about 1e-3, expected within [{low:g}, {high:g}]){more}: "
                f"{effect} (or this layer's, with a param group), or check the layer's initialisation scale.",
            )


def _log(value: float) -> float:
    import math

    return math.log10(value) + 3 if value > 0 else 0.0
