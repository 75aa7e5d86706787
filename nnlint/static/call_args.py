"""Reading a call's arguments: by position or keyword, and the layers of an `nn.Sequential`."""

from __future__ import annotations

from typing import List, Optional

import libcst as cst


def argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.BaseExpression]:
    """A call's argument by position (before any star-args) or by keyword."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None]
    for index, arg in enumerate(positional):
        if arg.star:
            return None
        if index == position:
            return arg.value
    return None


def sequential_layers(call: cst.Call) -> List[cst.BaseExpression]:
    """The layers of `nn.Sequential(a, b, ...)` or `nn.Sequential(OrderedDict([("a", a), ...]))`, in order."""
    args = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in args):
        return []
    if len(args) == 1 and isinstance(args[0].value, cst.Call):
        inner = args[0].value
        if (
            _callee_name(inner.func) == "OrderedDict"
            and inner.args
            and isinstance(inner.args[0].value, (cst.List, cst.Tuple))
        ):
            pairs = []
            for element in inner.args[0].value.elements:
                value = element.value
                if isinstance(value, cst.Tuple) and len(value.elements) == 2:
                    pairs.append(value.elements[1].value)
                else:
                    return []
            return pairs
    return [arg.value for arg in args]


def _callee_name(func: cst.BaseExpression) -> Optional[str]:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None
