"""NN201: softmax probabilities passed to CrossEntropyLoss, which expects logits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nnlint.rule import ProbeRule
from nnlint.rules.loss_input import LossInputRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind, loss_needles
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class SoftmaxBeforeCrossEntropy(LossInputRule, ProbeRule):
    """Probabilities passed where CrossEntropyLoss expects logits (rules/NN201.md)."""

    code = "NN201"
    name = "softmax-before-cross-entropy"
    severity = Severity.ERROR
    losses = frozenset({"cross_entropy"})
    needles = loss_needles(losses)
    wrong_kinds = frozenset({Kind.SOFTMAX})

    def message(self, loss: str, origin: Origin) -> str:
        return (
            f"`{loss}` gets softmax probabilities from {self.source(origin)}, but it applies log-softmax "
            "itself: the double softmax squashes the gradients and the loss plateaus (for 10 classes it "
            "cannot fall below 1.46). Pass the raw logits and drop the softmax."
        )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Step 0's outputs are rows of probabilities and the loss applies log-softmax itself."""
        loss = ctx.facts.loss
        if loss is None or not (loss.probabilities and loss.log_softmax_loss and loss.classes):
            return
        classes = loss.classes
        floor = math.log(1 + (classes - 1) / math.e)
        self.report(
            ctx.where(loss.softmax_where, loss.output_module),
            f"The model's outputs are already probabilities (every row is non-negative and sums to 1), but "
            f"`{loss.loss_name}` applies log-softmax itself. The double softmax squashes the gradients: for {classes} "
            f"classes the loss cannot fall below ln(1+({classes}-1)/e) = {floor:.4f} (it starts at {loss.initial:.4f}), "
            "so training plateaus far above zero. Return the raw logits; apply softmax only for predictions.",
        )
