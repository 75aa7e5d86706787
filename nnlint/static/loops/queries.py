"""Questions rules ask about events and nodes: branches, grad mode, accumulation, names, message text.

Imports libcst, the fast walk and the loop model's own data modules; never torch.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Iterable, List, Optional

import libcst as cst

from nnlint.static.fastwalk import walk
from nnlint.static.loops.events import Event, Frame, Unit
from nnlint.static.loops.names import (
    ACCUMULATION_TEST,
    ENABLE_GRAD,
    EVAL_NAME,
    NO_GRAD_CONTEXTS,
    SET_GRAD_ENABLED,
    VAL_LOADER,
)
from nnlint.static.loops.syntax import dotted, is_false, text_of

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics


def exclusive(first: Event, second: Event) -> bool:
    """Whether two events sit in different branches of the same `if`/`try`: they never run together."""
    branches = {id(frame.owner): frame.node for frame in first.path if frame.kind == "cond" and frame.owner is not None}
    for frame in second.path:
        if frame.kind == "cond" and frame.owner is not None and id(frame.owner) in branches:
            if branches[id(frame.owner)] is not frame.node:
                return True
    return False


def in_no_grad(event: Event) -> bool:
    """Whether autograd is off where the event runs (a `no_grad`/`inference_mode` block or decorator)."""
    for frame in reversed(event.path):
        if frame.kind == "nograd":
            return True
        if frame.kind == "grad":
            return False
    return False


def accumulation_condition(frames: Iterable[Frame]) -> Optional[cst.BaseExpression]:
    """The test of an enclosing `if` that looks like a gradient-accumulation boundary (`% accum == 0`)."""
    for frame in frames:
        test = None
        if frame.kind == "cond" and isinstance(frame.owner, cst.If):
            test = frame.owner.test
        elif frame.kind == "jump" and isinstance(frame.node, cst.If):
            test = frame.node.test
        if test is not None and ACCUMULATION_TEST.search(text_of(test)):
            return test
    return None


def is_eval_name(name: str) -> bool:
    """Whether a function name says it evaluates a model (`validate`, `evaluate`, `test`, `val_epoch`, ...)."""
    if name.endswith("_step") or name.startswith("on_"):
        return False
    return bool(EVAL_NAME.match(name))


def is_val_loader(expr: cst.BaseExpression) -> bool:
    """Whether a loop's iterable names a validation/test loader (`val_loader`, `enumerate(test_loader)`)."""
    finder = _NameFinder()
    walk(expr, finder)
    return any(VAL_LOADER.match(name) for name in finder.names)


def is_test_file(path: str) -> bool:
    """pytest files, where `test_*` functions are tests, not evaluation routines."""
    name = PurePath(path).name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def describe(semantics: FileSemantics, node: cst.CSTNode, limit: int = 60) -> str:
    """Short source text of a call for messages."""
    text = " ".join(semantics.module.code_for_node(node).split())
    if len(text) <= limit:
        return text
    if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
        return semantics.module.code_for_node(node.func) + "(...)"
    return text[: limit - 3] + "..."


def place(semantics: FileSemantics, unit: Unit, event: Event) -> str:
    """Where an event runs, for messages: `line 12`, or `line 40, in `train_epoch(...)` called at line 12`."""
    anchor = unit.anchor(event)
    if anchor is event.node:
        return f"line {semantics.line(event.node)}"
    return (
        f"line {semantics.line(event.node)}, in `{describe(semantics, anchor)}` called at line {semantics.line(anchor)}"
    )


def grad_disabled_at(semantics: FileSemantics, node: cst.CSTNode) -> bool:
    """Whether `node` sits in a `with torch.no_grad()`-like block or a function decorated with one."""
    current = semantics.parents.get(node)
    while current is not None:
        if isinstance(current, cst.With):
            kinds = [grad_context(semantics, item.item) for item in current.items]
            if "nograd" in kinds:
                return True
            if "grad" in kinds:
                return False
        if isinstance(current, cst.FunctionDef):
            if any(grad_context(semantics, d.decorator) == "nograd" for d in current.decorators):
                return True
        current = semantics.parents.get(current)
    return False


def grad_context(semantics: FileSemantics, expr: cst.BaseExpression) -> Optional[str]:
    """'nograd' for no_grad/inference_mode/set_grad_enabled(<not True>), 'grad' for enable_grad, else None."""
    call = expr if isinstance(expr, cst.Call) else None
    func = call.func if call is not None else expr
    if not dotted(func):
        return None
    qualified = semantics.qualified_name(func)
    if qualified in NO_GRAD_CONTEXTS:
        if call is not None and call.args and is_false(call.args[0].value):
            return None  # inference_mode(False)
        return "nograd"
    if qualified in ENABLE_GRAD:
        return "grad"
    if qualified in SET_GRAD_ENABLED and call is not None and call.args:
        value = call.args[0].value
        if isinstance(value, cst.Name) and value.value == "True":
            return "grad"
        return "nograd"  # False, or a condition such as `phase == "train"`
    return None


class _NameFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: List[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)
