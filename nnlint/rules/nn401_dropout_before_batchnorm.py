"""NN401: Dropout directly followed by BatchNorm (variance shift between train and eval)."""
from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst

from nnlint.rule import Rule
from nnlint.static import torch_api
from nnlint.static.semantics import argument, iter_statements, sequential_layers
from nnlint.static.torch_api import Kind
from nnlint.types import Severity


class DropoutBeforeBatchnorm(Rule):
    """Dropout feeds BatchNorm directly: its statistics differ between train and eval (rules/NN401.md)."""

    code = "NN401"
    name = "dropout-before-batchnorm"
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        qualified = semantics.qualified_name(node.func)
        if qualified == torch_api.SEQUENTIAL:
            self._check_layers(sequential_layers(node))
            return
        # Dataflow in forward: the input of a BatchNorm call was produced by a dropout.
        if qualified == torch_api.BATCH_NORM_FUNCTION:
            is_batchnorm = True
        else:
            module = semantics.module_class(node.func)
            is_batchnorm = module is not None and torch_api.MODULE_KINDS.get(module[0]) is Kind.BATCHNORM
        value = argument(node, 0, "input")
        if is_batchnorm and value is not None:
            origin = semantics.origin(value)
            if origin is not None and origin.kind is Kind.DROPOUT:
                self.report(node, _message(f"{origin.description} (line {origin.line})"))

    def visit_List(self, node: cst.List) -> None:
        self._check_layers([element.value for element in node.elements if not isinstance(element, cst.StarredElement)])

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._check_appends(node.body)

    def visit_Module(self, node: cst.Module) -> None:
        self._check_appends(node.body)

    def _check_appends(self, body: Sequence[cst.CSTNode]) -> None:
        """`layers.append(nn.Dropout()); layers.append(nn.BatchNorm1d(n))` in consecutive statements."""
        previous: Optional[tuple] = None
        for statement in iter_statements(body):
            appended = _appended(statement)
            if appended is not None and previous is not None and previous[0] == appended[0]:
                self._check_layers([previous[1], appended[1]])
            previous = appended

    def _check_layers(self, layers: Sequence[cst.BaseExpression]) -> None:
        semantics = self.context.semantics
        kinds = [semantics.layer_origin(layer) for layer in layers]
        for index in range(len(layers) - 1):
            first, second = kinds[index], kinds[index + 1]
            if first is not None and second is not None and first.kind is Kind.DROPOUT and second.kind is Kind.BATCHNORM:
                self.report(layers[index], _message(f"{first.description}", then=second.description))


def _appended(statement: cst.BaseSmallStatement) -> Optional[tuple]:
    """(list name, layer) for `name.append(layer)`."""
    if not isinstance(statement, cst.Expr) or not isinstance(statement.value, cst.Call):
        return None
    call = statement.value
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "append" and len(call.args) == 1:
        return (cst.Module([]).code_for_node(func.value), call.args[0].value)
    return None


def _message(dropout: str, then: str = "BatchNorm") -> str:
    return (
        f"{dropout} feeds {then} directly: dropout changes the variance of its output between training "
        "and evaluation, so the running variance BatchNorm learns in training is wrong at eval time "
        "(the 'variance shift'), and accuracy drops after `model.eval()`. Put dropout after the "
        "BatchNorm (and its activation), or only after the last BatchNorm."
    )
