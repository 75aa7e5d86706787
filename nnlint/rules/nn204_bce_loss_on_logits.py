"""NN204: BCELoss fed raw logits that never went through a sigmoid."""

from nnlint.rules.loss_input import LossInputRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind, loss_needles
from nnlint.types import Severity


class BceLossOnLogits(LossInputRule):
    """BCELoss expects probabilities in [0, 1]; it gets raw logits (rules/NN204.md)."""

    code = "NN204"
    name = "bce-loss-on-logits"
    severity = Severity.ERROR
    losses = frozenset({"binary_cross_entropy"})
    needles = loss_needles(losses)
    wrong_kinds = frozenset({Kind.LOGITS})

    def message(self, loss: str, origin: Origin) -> str:
        return (
            f"`{loss}` gets raw logits from {self.source(origin)}, but it expects probabilities in [0, 1]: "
            "it fails with a CUDA assert or clamps, and the gradients are wrong. Use `BCEWithLogitsLoss` "
            "on the logits (numerically stable), or apply `torch.sigmoid` first."
        )
