"""NN308: log of probabilities, or sqrt of a squared distance, with no eps: -inf or NaN gradients."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import torch_api
from nnlint.static.layers import in_differentiated_code, without_gradients
from nnlint.static.semantics import argument
from nnlint.static.torch_api import Kind
from nnlint.types import Severity

_PROBABILITIES = {Kind.SOFTMAX: "softmax", Kind.SIGMOID: "sigmoid"}
_ROOTS = torch_api.ROOT_FUNCTIONS
_REDUCTIONS = frozenset({"sum", "mean"})


class NanProneOp(StaticRule):
    """`log` of probabilities or `sqrt` of a squared distance without an eps: -inf or NaN gradients (rules/NN308.md)."""

    code = "NN308"
    name = "nan-prone-op"
    needles = torch_api.needles((torch_api.LOG,), torch_api.ROOT_FUNCTIONS) + ("**",)
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        qualified = semantics.qualified_name(node.func)
        func = node.func
        receiver = func.value if isinstance(func, cst.Attribute) else None
        method = (
            func.attr.value
            if isinstance(func, cst.Attribute)
            and (qualified is None or not qualified.startswith("torch"))
            and not node.args
            else None
        )
        if qualified == torch_api.LOG or method == "log":
            value = argument(node, 0, "input") if qualified == torch_api.LOG else receiver
            self._check_log(node, value, torch_api.LOG if qualified else ".log()")
        elif qualified in _ROOTS or method in ("sqrt", "rsqrt"):
            value = argument(node, 0, "input") if qualified in _ROOTS else receiver
            self._check_root(node, value, _ROOTS[qualified] if qualified in _ROOTS else f".{method}()")

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if (
            isinstance(node.operator, cst.Power)
            and isinstance(node.right, cst.Float)
            and float(node.right.value) == 0.5
        ):
            self._check_root(node, node.left, "** 0.5")

    def _check_log(self, node: cst.Call, value: Optional[cst.BaseExpression], written: str) -> None:
        probabilities = self._probabilities(value)
        if probabilities is None or without_gradients(self.context.semantics, node):
            return  # without gradients, -inf scores (as in beam search) are harmless
        stable = "F.log_softmax" if "softmax" in probabilities else "F.logsigmoid"
        self.report(
            node,
            f"`{written}` of {probabilities} with no eps: a probability that underflows to 0 (a confident "
            "prediction is enough in float32) gives -inf, and the loss and the gradients become NaN. "
            f"Compute log-probabilities directly with `{stable}` (stable for any logits), or clamp first: "
            "`p.clamp_min(1e-8).log()`.",
        )

    def _probabilities(self, value: Optional[cst.BaseExpression]) -> Optional[str]:
        """Words for `value` when it holds probabilities: softmax or sigmoid output, or one minus it."""
        if value is None:
            return None
        semantics = self.context.semantics
        resolved = semantics.resolve(value)
        if (
            isinstance(resolved, cst.BinaryOperation)
            and isinstance(resolved.operator, cst.Subtract)
            and _is_one(resolved.left)
        ):
            inner = self._probabilities(resolved.right)
            return f"one minus {inner}" if inner is not None else None
        origin = semantics.origin(value)
        if origin is None or origin.kind not in _PROBABILITIES:
            return None
        return f"{_PROBABILITIES[origin.kind]} probabilities from {origin.description} at line {origin.line}"

    def _check_root(self, node: cst.CSTNode, value: Optional[cst.BaseExpression], written: str) -> None:
        semantics = self.context.semantics
        if value is None or not _is_squared_distance(semantics, value) or not in_differentiated_code(semantics, node):
            return
        infinite = (
            "its value and gradient at 0 are infinite"
            if "rsqrt" in written
            else "the gradient of the square root at 0 is infinite"
        )
        self.report(
            node,
            f"`{written}` of a squared distance with no eps: {infinite}, so as soon as the distance is "
            "exactly 0 (two points that coincide, a sample compared with itself) the backward "
            "pass returns NaN and the weights become NaN. Add an eps inside (`torch.sqrt(s + 1e-8)`), or use "
            "`torch.linalg.vector_norm(a - b, dim=...)`, whose gradient at 0 is 0.",
        )


def _is_one(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and float(expr.value) == 1.0


def _is_two(expr: Optional[cst.BaseExpression]) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and float(expr.value) == 2.0


def _is_squared_distance(semantics, value: cst.BaseExpression) -> bool:
    """`((a - b) ** 2).sum(1)`, `diff.pow(2).mean()`, `torch.sum(d * d, dim=1)` with `d = a - b`: a squared distance, nothing added."""
    reduced = semantics.resolve(value)
    if not isinstance(reduced, cst.Call):
        return False
    func = reduced.func
    qualified = semantics.qualified_name(func)
    if qualified in torch_api.REDUCTIONS:
        squares = argument(reduced, 0, "input")
    elif (
        isinstance(func, cst.Attribute)
        and func.attr.value in _REDUCTIONS
        and (qualified is None or not qualified.startswith("torch"))
    ):
        squares = func.value
    else:
        return False
    base = _squared(semantics, squares) if squares is not None else None
    return base is not None and _is_difference(semantics, base)


def _squared(semantics, value: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """What `value` is the square of: `d ** 2`, `d.pow(2)`, `d.square()`, `torch.pow(d, 2)`, `torch.square(d)`, `d * d`."""
    square = semantics.resolve(value)
    if isinstance(square, cst.BinaryOperation):
        if isinstance(square.operator, cst.Power) and _is_two(square.right):
            return square.left
        code = cst.Module([]).code_for_node
        if isinstance(square.operator, cst.Multiply) and code(square.left) == code(square.right):
            return square.left
        return None
    if not isinstance(square, cst.Call):
        return None
    func = square.func
    qualified = semantics.qualified_name(func)
    if qualified == torch_api.SQUARE or (qualified == torch_api.POW and _is_two(argument(square, 1, "exponent"))):
        return argument(square, 0, "input")
    if isinstance(func, cst.Attribute) and (qualified is None or not qualified.startswith("torch")):
        if func.attr.value == "square" or (func.attr.value == "pow" and _is_two(argument(square, 0, "exponent"))):
            return func.value
    return None


def _is_difference(semantics, value: cst.BaseExpression) -> bool:
    # Only a difference is exactly zero in ordinary training (two points coincide); a single
    # activation or input vector is practically never all zeros.
    resolved = semantics.resolve(value)
    return isinstance(resolved, cst.BinaryOperation) and isinstance(resolved.operator, cst.Subtract)
