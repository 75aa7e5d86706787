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
    needles = torch_api.needles((torch_api.LOG,), torch_api.ROOT_FUNCTIONS) + ("**", "norm", "relu")
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
        elif isinstance(node.operator, cst.Divide):
            self._check_division(node, node.left, node.right)

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
        origin = semantics.origin(_unselected(semantics, value))
        if origin is None or origin.kind not in _PROBABILITIES:
            return None
        return f"{_PROBABILITIES[origin.kind]} probabilities from {origin.description} at line {origin.line}"

    def _check_division(
        self, node: cst.CSTNode, numerator: cst.BaseExpression, denominator: cst.BaseExpression
    ) -> None:
        """`x / x.norm(...)` or `x / x.sum(...)` with no eps, where `x` can be exactly zero."""
        semantics = self.context.semantics
        found = _norm_or_sum_of(semantics, denominator)
        if found is None or without_gradients(semantics, node):
            return
        reduction, reduced = found
        code = cst.Module([]).code_for_node
        if code(reduced) != code(numerator):
            return  # not a normalisation of the numerator by itself
        why = _why_zero(semantics, numerator, allow_argument=reduction == "norm")
        if why is None:
            return
        written = code(numerator)
        if reduction == "norm":
            self.report(
                node,
                f"`{written}` is divided by its own norm with no eps: {why}, its norm is 0 and the division gives "
                "0/0 = NaN in the forward pass and NaN gradients, which spread to every weight at the next step. "
                f"Use `F.normalize({written}, dim=...)` (it clamps the norm at eps) or clamp the norm first: "
                "`x / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)`.",
            )
        else:
            self.report(
                node,
                f"`{written}` is divided by its own sum with no eps: {why}, the sum is 0 and the division gives "
                "0/0 = NaN in the forward pass and NaN gradients. Add an eps: `x / (x.sum(dim, keepdim=True) + 1e-8)`.",
            )

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


_MAX_STEPS = 6
# Casts that turn a boolean mask into numbers.
_CASTS = frozenset({"float", "double", "half", "to", "type", "type_as", "long", "int"})
# Reshaping or indexing a norm keeps it a norm: `a.norm(dim=1)[:, None]`, `.unsqueeze(-1)`, `.expand_as(a)`.
_SHAPE_METHODS = frozenset({"unsqueeze", "view", "reshape", "expand_as", "expand", "detach", "squeeze"})


def _unselected(semantics, value: cst.BaseExpression) -> cst.BaseExpression:
    """The tensor whose entries `value` picks: `p[:, 1]`, `p.gather(1, y)`, `p.min(-1)[0]`, `torch.gather(p, ...)` -> `p`."""
    for _ in range(_MAX_STEPS):
        resolved = semantics.resolve(value)
        if isinstance(resolved, cst.Subscript):
            value = resolved.value
        elif (
            isinstance(resolved, cst.Call)
            and isinstance(resolved.func, cst.Attribute)
            and (resolved.func.attr.value in torch_api.SELECTION_METHODS or resolved.func.attr.value == "min")
        ):
            # `.min(dim)` returns values (and indices): still probabilities; a max is never 0, so it is not followed
            value = resolved.func.value
        elif (
            isinstance(resolved, cst.Call)
            and semantics.qualified_name(resolved.func) in torch_api.SELECTION_FUNCTIONS
            and resolved.args
        ):
            value = resolved.args[0].value
        else:
            return value
    return value


def _norm_or_sum_of(semantics, denominator: cst.BaseExpression):
    """('norm', x) for `x.norm(...)`, `torch.norm(x, ...)`, `torch.linalg.vector_norm(x, ...)`; ('sum', x) for
    `x.sum(...)`, `torch.sum(x, ...)`: through names, indexing and reshapes, and only with no eps added or clamped."""
    expr = denominator
    for _ in range(_MAX_STEPS):
        expr = semantics.resolve(expr)
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in _SHAPE_METHODS
        ):
            expr = expr.func.value
        else:
            break
    if not isinstance(expr, cst.Call):
        return None
    qualified = semantics.qualified_name(expr.func)
    if qualified in torch_api.NORM_FUNCTIONS or qualified == "torch.sum":
        reduced = argument(expr, 0, "input")
        return ("norm" if qualified in torch_api.NORM_FUNCTIONS else "sum", reduced) if reduced is not None else None
    func = expr.func
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in ("norm", "sum")
        and not _is_torch(qualified)
        and not (isinstance(func.value, cst.Name) and func.value.value == "self")  # `self.norm(x)`: a layer
    ):
        return func.attr.value, func.value
    return None


def _is_torch(qualified: Optional[str]) -> bool:
    return qualified is not None and qualified.startswith("torch")


def _why_zero(semantics, value: cst.BaseExpression, allow_argument: bool) -> Optional[str]:
    """Words for why `value` can be exactly zero along the reduced dimension, or None when it practically never is.

    A difference (two points that coincide), a rectifier's output (a row of dead units), or, for a norm, an
    argument of the function (any input: padding rows, empty bags, all-zero feature vectors). A projection or
    other layer output is left alone: learned embeddings are never exactly zero, and dividing them by their
    norm is the standard form of CLIP-style models."""
    resolved = semantics.resolve(value)
    if isinstance(resolved, cst.BinaryOperation) and isinstance(resolved.operator, cst.Subtract):
        return "when the two points coincide (a sample paired with itself, duplicates) the difference is all zeros"
    if _is_rectified(semantics, resolved):
        return "a ReLU output can be all zeros (every unit inactive for one sample)"
    if _is_mask(semantics, resolved):
        return "a mask can select nothing (a sample with no valid entry)"
    if allow_argument and isinstance(value, cst.Name) and _is_plain_argument(semantics, value):
        return (
            f"`{value.value}` is an argument, and when any of its rows is all zeros (padding, an empty bag, a blank "
            "input, a zero feature vector)"
        )
    return None


def _is_rectified(semantics, expr: cst.BaseExpression) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    func = expr.func
    qualified = semantics.qualified_name(func)
    if qualified in torch_api.RECTIFIER_FUNCTIONS:
        return True
    if isinstance(func, cst.Attribute) and func.attr.value in ("relu", "relu_") and not _is_torch(qualified):
        return semantics.module_class(func) is None
    module = semantics.module_class(func)
    return module is not None and module[0] in torch_api.RECTIFIER_MODULES


def _is_mask(semantics, expr: cst.BaseExpression) -> bool:
    """`(x > 0).float()`, `mask.to(dtype)` of a comparison: zeros and ones, all zeros when nothing is selected."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _CASTS:
        expr = semantics.resolve(expr.func.value)
    return isinstance(expr, cst.Comparison)


def _is_plain_argument(semantics, name: cst.Name) -> bool:
    """A parameter of the enclosing function (not `self`) that the function never rebinds."""
    function = semantics.enclosing(name, (cst.FunctionDef,))
    if function is None or name.value in ("self", "cls"):
        return False
    params = function.params
    if not any(
        param.name.value == name.value for param in (*params.params, *params.kwonly_params, *params.posonly_params)
    ):
        return False
    for node in semantics.descendants(function.body):
        target: Optional[cst.CSTNode] = None
        if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr)):
            target = node.target
        if target is not None and any(
            isinstance(n, cst.Name) and n.value == name.value for n in [target, *semantics.descendants(target)]
        ):
            return False
    return True
