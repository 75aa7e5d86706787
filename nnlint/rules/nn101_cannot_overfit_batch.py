"""NN101: the model cannot memorise a handful of samples."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class CannotOverfitBatch(ProbeRule):
    """The model cannot overfit a few samples: its loss does not fall to a tenth or it misclassifies them (rules/NN101.md)."""

    code = "NN101"
    name = "cannot-overfit-batch"
    severity = Severity.ERROR
    needs = frozenset({Need.OVERFIT})
    options = (
        Option("samples", 4, "how many samples the model must memorise"),
        Option("steps", 200, "step limit of the overfit test"),
        Option("lrs", (1e-3, 1e-2, 1e-4), "learning rates of the probe's Adam, tried in turn until one fits"),
        Option("loss_fraction", 0.1, "the loss must fall to this share of its start"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Report a conclusive failure of the overfit test; an inconclusive one is only noted in the report."""
        result = ctx.facts.overfit
        if result.status in ("inconclusive", "skipped"):
            ctx.status(self.code, f"{result.status}: {result.reason}")
        if result.status != "failed":
            return
        fraction = ctx.option(self, "loss_fraction")
        accuracy = "" if result.accuracy is None else f", train accuracy {result.accuracy:.0%}"
        tried = "; ".join(f"lr {lr:g}: best {number(best)}" for lr, _, best in result.tried) or (f"lr {result.lr:g}")
        if result.floor:
            self.report(
                ctx.fallback,
                f"Trained on {result.samples} fixed samples with Adam (lr {result.lr:g}), the loss went from "
                f"{number(result.initial_loss)} to {number(result.best_loss)} at best, and it can never reach "
                f"{fraction:.0%} of its start: {result.floor}. Training on real data hits the same floor. Scale the "
                "targets into the output's range, or drop or change the squashing op at the output.",
            )
            return
        self.report(
            ctx.fallback,
            f"Trained on {result.samples} fixed samples with Adam, dropout and weight decay off, the loss stopped "
            f"improving at every learning rate tried ({tried}): {number(result.initial_loss)} at the start, "
            f"{number(result.best_loss)} at best after {result.steps} steps{accuracy}. A model that can learn memorises "
            f"so few samples (loss at most {fraction:.0%} of its start, 100% accuracy); this one cannot, so it "
            "will not learn from real data either. Look for frozen or detached layers, a loss that does not match the "
            "targets, an output layer too small for the task or a bug in forward; the probe's other findings often "
            "name the cause.",
        )
