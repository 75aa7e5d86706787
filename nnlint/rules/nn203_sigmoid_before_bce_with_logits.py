"""NN203: sigmoid output passed to BCEWithLogitsLoss, which applies the sigmoid itself."""

from nnlint.rules.loss_input import LossInputRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind, loss_needles
from nnlint.types import Severity


class SigmoidBeforeBceWithLogits(LossInputRule):
    """Sigmoid probabilities passed to a loss that expects logits (rules/NN203.md)."""

    code = "NN203"
    name = "sigmoid-before-bce-with-logits"
    severity = Severity.ERROR
    losses = frozenset({"binary_cross_entropy_with_logits"})
    needles = loss_needles(losses)
    wrong_kinds = frozenset({Kind.SIGMOID})

    def message(self, loss: str, origin: Origin) -> str:
        return (
            f"`{loss}` gets sigmoid probabilities from {self.source(origin)}, but it applies the sigmoid "
            "itself: the double sigmoid squeezes predictions into [0.5, 0.73], gradients vanish and the "
            "loss stalls. Pass the raw logits and drop the sigmoid."
        )
