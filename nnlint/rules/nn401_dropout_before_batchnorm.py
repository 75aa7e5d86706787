"""NN401: Dropout directly followed by BatchNorm (variance shift between train and eval)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from nnlint.rule import Need, ProbeRule
from nnlint.static import torch_api
from nnlint.static.layers import LayerPairRule
from nnlint.static.semantics import argument
from nnlint.static.torch_api import Kind
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext

VARIANCE_RANGE = (0.8, 1.25)  # eval-mode over train-mode input variance of a BatchNorm fed by dropout


class DropoutBeforeBatchnorm(LayerPairRule, ProbeRule):
    """Dropout feeds BatchNorm directly: its statistics differ between train and eval (rules/NN401.md)."""

    code = "NN401"
    name = "dropout-before-batchnorm"
    severity = Severity.WARNING
    needles = torch_api.needles(torch_api.DROPOUT_MODULES, torch_api.DROPOUT_FUNCTIONS)
    needs = frozenset({Need.VARIANCE_SHIFT})

    def check_call(self, node: cst.Call) -> None:
        # Dataflow in forward: the input of a BatchNorm call was produced by a dropout.
        semantics = self.context.semantics
        if semantics.qualified_name(node.func) == torch_api.BATCH_NORM_FUNCTION:
            is_batchnorm = True
        else:
            module = semantics.module_class(node.func)
            is_batchnorm = module is not None and torch_api.MODULE_KINDS.get(module[0]) is Kind.BATCHNORM
        value = argument(node, 0, "input")
        if is_batchnorm and value is not None:
            origin = semantics.origin(value)
            if origin is not None and origin.kind is Kind.DROPOUT:
                self.report(node, _message(f"{origin.description} (line {origin.line})"))

    def check_pair(self, first: cst.BaseExpression, second: cst.BaseExpression) -> None:
        semantics = self.context.semantics
        before, after = semantics.layer_origin(first), semantics.layer_origin(second)
        if before is not None and after is not None and before.kind is Kind.DROPOUT and after.kind is Kind.BATCHNORM:
            self.report(first, _message(f"{before.description}", then=after.description))

    def check_probe(self, ctx: ProbeContext) -> None:
        """A BatchNorm fed by dropout whose eval-mode input variance is off its train-mode one."""
        low, high = VARIANCE_RANGE
        for shift in ctx.facts.variance_shifts:
            if low <= shift.ratio <= high:
                continue
            self.report(
                ctx.where_module(shift.label),
                f"`self.{shift.label}` normalises the output of {shift.dropout}: in eval mode its input variance is "
                f"{shift.ratio:.2f}× the train-mode variance its running statistics converge to (outside "
                f"[{low}, {high}]), so eval-mode activations are mis-scaled and accuracy drops at test time. Put dropout "
                "after the BatchNorm (or after the last BatchNorm only).",
            )


def _message(dropout: str, then: str = "BatchNorm") -> str:
    return (
        f"{dropout} feeds {then} directly: dropout changes the variance of its output between training "
        "and evaluation, so the running variance BatchNorm learns in training is wrong at eval time "
        "(the 'variance shift'), and accuracy drops after `model.eval()`. Put dropout after the "
        "BatchNorm (and its activation), or only after the last BatchNorm."
    )
