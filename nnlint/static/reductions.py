"""How a loss term is reduced over the batch: averaged ('mean') or added up ('sum'), when the code says so.

Used by NN205: a summed term grows with the batch size and the number of elements, an averaged one
does not, so the two added with no weight are on unrelated scales. Unknown stays unknown (None).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional

import libcst as cst

from nnlint.static import torch_api
from nnlint.static.semantics import argument

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

_FULL_REDUCTIONS = frozenset({"sum", "mean"})
_MAX_STEPS = 6


class ReducedTerm(NamedTuple):
    """One term of a sum of losses: how it is reduced, what to call it in a message, and where it is computed."""

    reduction: str  # 'sum' or 'mean'
    description: str
    node: cst.CSTNode


def term_reduction(semantics: "FileSemantics", term: cst.BaseExpression) -> Optional[ReducedTerm]:
    """'sum' or 'mean' for a loss term whose reduction the code states, else None.

    A torch loss with its `reduction=` (on the call or the loss module's constructor; `.sum()`/`.mean()`
    after `reduction="none"`), or a hand-written Gaussian KL term summed with no `dim`, as in
    `-0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp())`.
    """
    expr, applied = _strip_full_reduction(semantics, term)
    origin = semantics.origin(expr)
    if origin is not None and origin.loss is not None:
        stated = _stated_reduction(semantics, origin.loss.call)
        reduction = applied if stated == "none" else stated
        if reduction not in _FULL_REDUCTIONS:
            return None
        written = f'{origin.description} with `reduction="{stated}"`' if stated != "mean" else origin.description
        if stated == "none":
            written = f'{origin.description} with `reduction="none"` then `.{applied}()`'
        return ReducedTerm(reduction, written, origin.loss.call)  # type: ignore[arg-type]
    resolved = semantics.resolve(expr)
    if (
        applied is not None
        and isinstance(resolved, cst.Call)
        and semantics.qualified_name(resolved.func) in torch_api.KL_DIVERGENCE_FUNCTIONS
    ):
        return ReducedTerm(applied, f"`kl_divergence(...).{applied}()`", resolved)  # elementwise KL, then reduced
    if applied is None and _is_summed_gaussian_kl(semantics, resolved):
        return ReducedTerm("sum", "the hand-written KL term `torch.sum(...)`", resolved)
    return None


def _strip_full_reduction(semantics: "FileSemantics", expr: cst.BaseExpression):
    """`x.sum()` / `x.mean()` (no arguments), through names: the reduced expression and the last reduction applied."""
    applied: Optional[str] = None
    for _ in range(_MAX_STEPS):
        resolved = semantics.resolve(expr)
        if (
            isinstance(resolved, cst.Call)
            and isinstance(resolved.func, cst.Attribute)
            and resolved.func.attr.value in _FULL_REDUCTIONS
            and not resolved.args
        ):
            applied = applied or resolved.func.attr.value
            expr = resolved.func.value
            continue
        break
    return expr, applied


def _stated_reduction(semantics: "FileSemantics", call: cst.Call) -> Optional[str]:
    """The `reduction=` of a loss call, or of the loss module's constructor it calls; 'mean' when not given."""
    constructed = semantics.module_class(call.func)
    source = constructed[1] if constructed is not None else call
    reduction = _keyword(source, "reduction")
    if reduction is not None:
        return _string(reduction)
    size_average, reduce = _keyword(source, "size_average"), _keyword(source, "reduce")
    if _is_false(reduce):
        return "none"
    if _is_false(size_average):
        return "sum"  # the legacy spelling of reduction="sum"
    if size_average is not None or reduce is not None:
        return None
    return "mean"


def _keyword(call: cst.Call, name: str) -> Optional[cst.BaseExpression]:
    return next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None)


def _string(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None  # a variable: unknown


def _is_false(expr: Optional[cst.BaseExpression]) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _is_summed_gaussian_kl(semantics: "FileSemantics", expr: cst.BaseExpression) -> bool:
    """`-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())` and its spellings: a constant times a sum with
    no `dim` of an expression holding an `exp` and a square, i.e. the closed-form KL of a VAE summed over the batch."""
    if not (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply)):
        return False
    for constant, summed in ((expr.left, expr.right), (expr.right, expr.left)):
        if _is_number(constant):
            inner = _full_sum_argument(semantics, summed)
            if inner is not None and _has_exp_and_square(semantics, inner):
                return True
    return False


def _is_number(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        expr = expr.expression
    return isinstance(expr, (cst.Integer, cst.Float))


def _full_sum_argument(semantics: "FileSemantics", expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """What `torch.sum(x)` or `x.sum()` sums, when it sums every element (no `dim`)."""
    if not isinstance(expr, cst.Call):
        return None
    if semantics.qualified_name(expr.func) == "torch.sum":
        return argument(expr, 0, "input") if len(expr.args) == 1 and expr.args[0].keyword is None else None
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "sum" and not expr.args:
        return expr.func.value
    return None


def _has_exp_and_square(semantics: "FileSemantics", expr: cst.BaseExpression) -> bool:
    exp = square = False
    for node in [expr, *semantics.descendants(expr)]:
        if isinstance(node, cst.Call):
            func = node.func
            name = (
                func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            )
            exp = exp or name == "exp"
            square = square or name in ("pow", "square")
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power):
            square = True
    return exp and square
