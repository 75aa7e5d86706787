"""NN208: the regularization term outweighs the data term of the loss."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class RegularizationDominatesLoss(ProbeRule):
    """Regularization outweighs the data loss at initialisation, or grows fast during the probe (rules/NN208.md)."""

    code = "NN208"
    name = "regularization-dominates-loss"
    severity = Severity.WARNING
    needs = frozenset({Need.USER_OPTIMIZER})
    options = (Option("growth", 2.0, "growth of the regularization term over the probe's steps that is reported"),)

    def check_probe(self, ctx: ProbeContext) -> None:
        """Compare the regularization and data terms at step 0 and after the probe's optimizer steps."""
        reg = ctx.facts.regularization
        if reg is None:
            ctx.status(
                self.code,
                "skipped: no weight decay in your optimizer and no loss terms named like reg/l1/l2/decay/penalty",
            )
            return
        growth = ctx.option(self, "growth")
        if reg.initial_reg > reg.initial_data:
            self.report(
                ctx.fallback,
                f"At initialisation the regularization term ({reg.source}) is {number(reg.initial_reg)}, larger than the "
                f"data term {number(reg.initial_data)}. Gradient descent then mostly shrinks the weights instead of "
                "fitting the data, and the model underfits. Lower the regularization strength (often by 10-100×) or "
                "rescale the terms so the data term dominates.",
            )
        elif (
            reg.final_reg is not None
            and reg.final_data is not None
            and reg.initial_reg > 0
            and reg.final_reg >= growth * reg.initial_reg
            and reg.final_reg > 0.5 * reg.final_data
        ):
            self.report(
                ctx.fallback,
                f"The regularization term ({reg.source}) grew from {number(reg.initial_reg)} to {number(reg.final_reg)} "
                f"in {ctx.facts.optimizer_steps} steps (≥ {growth:g}×) and is now comparable to the data term "
                f"{number(reg.final_data)}: the optimizer is trading data fit for it. Check the weighting of the "
                "term and the learning rate.",
            )
