"""NN202: NLLLoss fed raw logits or probabilities instead of log-probabilities."""

from nnlint.rules.loss_input import LossInputRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind, loss_needles
from nnlint.types import Severity


class NllLossWithoutLogSoftmax(LossInputRule):
    """NLLLoss expects log-probabilities; it gets logits or probabilities (rules/NN202.md)."""

    code = "NN202"
    name = "nll-loss-without-log-softmax"
    severity = Severity.ERROR
    losses = frozenset({"nll_loss"})
    needles = loss_needles(losses)
    wrong_kinds = frozenset({Kind.SOFTMAX, Kind.LOGITS, Kind.SIGMOID})

    def message(self, loss: str, origin: Origin) -> str:
        return (
            f"`{loss}` gets {origin.kind.value} from {self.source(origin)}, but it expects log-probabilities: "
            "it only negates the input at the target index, so the loss is unbounded below (logits) or "
            "meaningless (probabilities) and training diverges or stalls. Apply `log_softmax(dim=1)` "
            "first, or use `CrossEntropyLoss` on the logits."
        )
