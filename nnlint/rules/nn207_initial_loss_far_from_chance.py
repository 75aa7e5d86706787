"""NN207: the loss of a freshly initialised model is far from the chance level."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class InitialLossFarFromChance(ProbeRule):
    """The loss at initialisation is far from what uniform predictions give (rules/NN207.md)."""

    code = "NN207"
    name = "initial-loss-far-from-chance"
    severity = Severity.WARNING
    options = (
        Option("low", 0.5, "lowest accepted initial loss, as a multiple of the chance level"),
        Option("high", 8.0, "highest accepted initial loss, as a multiple of the chance level"),
        Option("prior_high", 2.0, "the same, when the chance level is the entropy of your binary labels' prior"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Warn when the step-0 loss (train mode) is outside [low, high] × the chance level."""
        loss = ctx.facts.loss
        if loss is None or loss.expected is None or loss.expected <= 0:
            ctx.status(self.code, f"skipped: {loss.expected_why if loss else 'no loss'}")
            return
        if not math.isfinite(loss.initial):
            ctx.status(self.code, "skipped: the initial loss is NaN/Inf (NN317)")
            return
        low, high = ctx.option(self, "low"), ctx.option(self, "prior_high" if loss.from_prior else "high")
        ratio = loss.initial / loss.expected
        if low <= ratio <= high:
            return
        if ratio > high:
            cause = (
                "The model is confidently wrong before training: the output layer's initial weights (or a scale "
                "factor in forward) make the logits too large. Initialise the last layer with smaller weights (e.g. "
                "`nn.init.zeros_` or a small std) and its bias to the label prior; the first steps are otherwise spent "
                "shrinking the logits, which looks like a hockey-stick loss curve."
            )
        else:
            cause = (
                "The model is right too often before training: the targets may leak into the inputs, the loss may get "
                "the wrong inputs (e.g. NLLLoss on raw logits instead of log-probabilities) or it is averaged over the "
                "wrong dimension."
            )
        self.report(
            ctx.where_module(loss.output_module),
            f"The loss of the freshly initialised model is {number(loss.initial)} ({loss.loss_name}, train mode), "
            f"{ratio:.2g}× the chance level {loss.expected_why} (expected within {low:g}–{high:g}×). {cause}",
        )
