"""NN318: a custom autograd.Function's backward disagrees with finite differences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class GradcheckMismatch(ProbeRule):
    """A custom autograd.Function's backward disagrees with the numerical gradient of its forward (rules/NN318.md)."""

    code = "NN318"
    name = "gradcheck-mismatch"
    severity = Severity.ERROR
    needs = frozenset({Need.GRADCHECK})
    options = (
        Option("error", 1e-2, "relative error above which the finding is an error"),
        Option("warning", 1e-4, "relative error above which the finding is a warning"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Error above `error` relative error, warning above `warning`; deliberate surrogate gradients are noted only."""
        for result in ctx.facts.gradchecks:
            if result.relative_error is None:
                if result.note:
                    ctx.status(self.code, f"{result.name} not judged: {result.note}")
                continue
            error, warning = ctx.option(self, "error"), ctx.option(self, "warning")
            if result.relative_error <= warning:
                continue
            detail = f" ({result.note})" if result.note else ""
            ctx.report(
                self,
                ctx.where(result.where),
                f"The backward of `{result.name}` disagrees with finite differences of its forward: relative error "
                f"{number(result.relative_error)} on random projections in float64{detail}. Every layer before it "
                "then trains on a wrong gradient. Check the derivative formula, the order and shapes of the returned "
                "gradients, and values saved in `ctx`; verify with `torch.autograd.gradcheck`. If the difference is "
                "deliberate (a custom gradient), silence it with `# noqa: NN318` on the class line.",
                severity=Severity.WARNING if result.relative_error <= error else None,
            )
