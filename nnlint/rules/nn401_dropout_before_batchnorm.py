"""NN401: Dropout directly followed by BatchNorm (variance shift between train and eval)."""

from __future__ import annotations

import libcst as cst

from nnlint.static import torch_api
from nnlint.static.layers import LayerPairRule
from nnlint.static.semantics import argument
from nnlint.static.torch_api import Kind
from nnlint.types import Pass, Severity


class DropoutBeforeBatchnorm(LayerPairRule):
    """Dropout feeds BatchNorm directly: its statistics differ between train and eval (rules/NN401.md)."""

    code = "NN401"
    name = "dropout-before-batchnorm"
    severity = Severity.WARNING
    needles = torch_api.needles(torch_api.DROPOUT_MODULES, torch_api.DROPOUT_FUNCTIONS)
    passes = (Pass.STATIC, Pass.PROBE)

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


def _message(dropout: str, then: str = "BatchNorm") -> str:
    return (
        f"{dropout} feeds {then} directly: dropout changes the variance of its output between training "
        "and evaluation, so the running variance BatchNorm learns in training is wrong at eval time "
        "(the 'variance shift'), and accuracy drops after `model.eval()`. Put dropout after the "
        "BatchNorm (and its activation), or only after the last BatchNorm."
    )
