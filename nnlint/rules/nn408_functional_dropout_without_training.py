"""NN408: `F.dropout` in a module method without `training=`, so it stays on in eval mode."""

from __future__ import annotations

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import torch_api
from nnlint.static.layers import enclosing_module_method
from nnlint.types import Fix, Severity

_TRAINING_POSITION = 2  # F.dropout(input, p, training, inplace)


class FunctionalDropoutWithoutTraining(StaticRule):
    """`F.dropout` in a module without `training=self.training` keeps dropping at eval time (rules/NN408.md)."""

    code = "NN408"
    name = "functional-dropout-without-training"
    needles = torch_api.needles(torch_api.DROPOUT_FUNCTIONS)
    severity = Severity.ERROR
    fix_availability = "always"

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        qualified = semantics.qualified_name(node.func)
        if qualified not in torch_api.DROPOUT_FUNCTIONS or not node.args:
            return
        if any(arg.star for arg in node.args) or any(
            arg.keyword is not None and arg.keyword.value == "training" for arg in node.args
        ):
            return
        if len([arg for arg in node.args if arg.keyword is None]) > _TRAINING_POSITION:
            return  # training given positionally
        if enclosing_module_method(semantics, node) is None:
            return  # no `self.training` to refer to
        if _only_when_training(semantics, node):
            return  # `if self.training: F.dropout(x)`: the default training=True is right there
        function = torch_api.short(qualified)
        self.report(
            node,
            f"`{function}` is called without `training=`, so it defaults to `training=True` and keeps "
            "dropping activations after `model.eval()`: evaluation and inference outputs are random and "
            f"worse than the model can do. Pass `training=self.training` (or use an `nn.Dropout` module, "
            "which follows the mode).",
            fix=Fix(
                "Pass `training=self.training`", (self.context.insert_after(node.args[-1], ", training=self.training"),)
            ),
        )


def _only_when_training(semantics, node: cst.CSTNode) -> bool:
    """Whether `node` sits in the body of an `if` (or the true side of a conditional expression) whose test
    requires `self.training`, e.g. `if self.dropout > 0 and self.training:`."""
    child, parent = node, semantics.parents.get(node)
    while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
        if isinstance(parent, cst.If) and child is parent.body and _requires_training(parent.test):
            return True
        if isinstance(parent, cst.IfExp) and child is parent.body and _requires_training(parent.test):
            return True
        child, parent = parent, semantics.parents.get(parent)
    return False


def _requires_training(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Attribute):
        return test.attr.value == "training" and isinstance(test.value, cst.Name) and test.value.value == "self"
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _requires_training(test.left) or _requires_training(test.right)
    return False
