"""NN317: NaN or Inf in the forward pass, the loss or the gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import at
from nnlint.rule import ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class NonFiniteValues(ProbeRule):
    """NaN or Inf appears in the outputs, the loss or the gradients during the probe (rules/NN317.md)."""

    code = "NN317"
    name = "non-finite-values"
    severity = Severity.ERROR

    def check_probe(self, ctx: ProbeContext) -> None:
        """Report the first non-finite value, where it appeared and what produced it."""
        found = ctx.facts.nonfinite
        if found is None:
            return
        when = "in the first step" if found.step == 0 else f"at training step {found.step}"
        advice = {
            "the input batch": "Clean the data (torch.nan_to_num, or drop bad samples) before it reaches the model.",
            "the loss": "Check that the targets fit the loss (class indices in range, probabilities in [0, 1]).",
        }.get(
            found.phase,
            "Guard the operation: clamp its input (e.g. `torch.log(x.clamp_min(1e-8))`, `sqrt(x + eps)`), "
            "use the numerically stable form (`log_softmax`, `logsumexp`, BCEWithLogitsLoss), or lower the learning rate.",
        )
        self.report(
            ctx.where(found.where),
            f"NaN/Inf {when} ({found.phase}): {found.what}{at(found.where)}. One non-finite value spreads to every "
            f"weight at the next optimizer step and the run is lost. {advice}",
        )
