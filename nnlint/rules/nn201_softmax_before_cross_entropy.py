"""NN201: softmax probabilities passed to CrossEntropyLoss, which expects logits."""

from nnlint.rules.loss_input import LossInputRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind, loss_needles
from nnlint.types import Pass, Severity


class SoftmaxBeforeCrossEntropy(LossInputRule):
    """Probabilities passed where CrossEntropyLoss expects logits (rules/NN201.md)."""

    code = "NN201"
    name = "softmax-before-cross-entropy"
    severity = Severity.ERROR
    passes = (Pass.STATIC, Pass.PROBE)
    losses = frozenset({"cross_entropy"})
    needles = loss_needles(losses)
    wrong_kinds = frozenset({Kind.SOFTMAX})

    def message(self, loss: str, origin: Origin) -> str:
        return (
            f"`{loss}` gets softmax probabilities from {self.source(origin)}, but it applies log-softmax "
            "itself: the double softmax squashes the gradients and the loss plateaus (for 10 classes it "
            "cannot fall below 1.46). Pass the raw logits and drop the softmax."
        )
