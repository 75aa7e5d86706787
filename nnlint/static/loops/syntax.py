"""Small syntactic helpers of the loop model: source text, last names, dotted names (imports only libcst)."""

from __future__ import annotations

from typing import Optional

import libcst as cst


def text_of(node: cst.CSTNode) -> str:
    """The source text of a node, without the surrounding module's formatting settings."""
    return cst.Module([]).code_for_node(node)


def last_name(expr: cst.BaseExpression) -> Optional[str]:
    """`optimizer` for `optimizer`, `self.optimizer`, `optimizers[0]`; else None."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def dotted(expr: cst.BaseExpression) -> bool:
    """`a`, `a.b.c`: a name whose qualified name means something."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name)


def is_false(expr: cst.BaseExpression) -> bool:
    """The literal `False`."""
    return isinstance(expr, cst.Name) and expr.value == "False"


def is_grad(expr: cst.BaseExpression) -> bool:
    """`p.grad` or `p.grad.data`."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
        expr = expr.value
    return isinstance(expr, cst.Attribute) and expr.attr.value == "grad"
