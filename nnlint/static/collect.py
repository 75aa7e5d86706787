"""The semantics collector: one walk of a parsed file that builds the tables FileSemantics answers from.

The hottest code of the static pass (it runs on every parsed file): it walks by the fast walk's child fields
(see fastwalk.py) and dispatches to its hooks through a per-type plan. Imports only libcst; never torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, Union

import libcst as cst

from nnlint.static.fastwalk import NO_VALUE, TRIVIA, KindTest, structural_fields

Scope = Union[cst.Module, cst.FunctionDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp]
TRIVIA_LEVELS = 3  # the deepest trivia subtree: ParenthesizedWhitespace > EmptyLine > Comment
_ATTRIBUTE, _NAME = KindTest(cst.Attribute), KindTest(cst.Name)
# node type -> (its visit_ hook, its leave_ hook, structural_fields(type)), looked up once per type
_COLLECTOR_PLAN: Dict[type, Tuple[Optional[Callable], Optional[Callable], Optional[Tuple[str, ...]]]] = {}


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while _ATTRIBUTE[type(node)]:
        parts.append(node.attr.value)  # type: ignore[attr-defined]  # an Attribute
        node = node.value  # type: ignore[attr-defined]
    if not _NAME[type(node)]:
        return None
    parts.append(node.value)  # type: ignore[attr-defined]  # a Name
    return ".".join(reversed(parts))


# What a name holds when no expression of its own function says it: an "unknown" value (an Ellipsis, as rules
# expect) that remembers why, so cross-function value flow (flow.py) can look further.
@dataclass(frozen=True)
class ParameterValue(cst.Ellipsis):
    """A function parameter: its values are the arguments at the function's call sites."""

    param: Optional[cst.Param] = None
    function: Optional[cst.FunctionDef] = None


@dataclass(frozen=True)
class UnpackedValue(cst.Ellipsis):
    """One name of `a, b = value`: element `index` of what `value` holds."""

    source: Optional[cst.BaseExpression] = None
    index: int = -1


class Collector(cst.CSTVisitor):
    """One walk: parents, pre-order index, imports per scope, assignments per scope, `self.<attr>` per class.
    Whitespace, comments and punctuation (fastwalk.TRIVIA) are not walked: they are in none of the tables.

    Walked by `_walk`, not by libcst: only its visit_/leave_ hooks are used. FileSemantics takes the tables.
    """

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.parents: Dict[cst.CSTNode, cst.CSTNode] = {}
        self.order: Dict[cst.CSTNode, int] = {}  # pre-order index: "before" without computing positions
        self.imports: Dict[Scope, Dict[str, str]] = {}
        self.assignments: Dict[Scope, Dict[str, List[Tuple[int, cst.BaseExpression]]]] = {}
        self.self_attributes: Dict[cst.ClassDef, Dict[str, List[cst.BaseExpression]]] = {}
        self.classes: Dict[str, cst.ClassDef] = {}  # the first class of each name
        self.depth = 0  # levels of nesting of the tree
        self.scopes: List[Scope] = [module]
        self.class_stack: List[cst.ClassDef] = []
        self._walk(module, None, 0)
        self.depth += TRIVIA_LEVELS  # libcst's visitors (rules use them) go down into the trivia too

    def _walk(self, node: cst.CSTNode, parent: Optional[cst.CSTNode], depth: int) -> None:
        """`module.visit(self)` without libcst's generic visit, which rebuilds every node (3x the time)."""
        if depth > self.depth:
            self.depth = depth
        order = self.order
        order[node] = len(order)
        if parent is not None:
            self.parents[node] = parent
        kind = type(node)
        plan = _COLLECTOR_PLAN.get(kind)
        if plan is None:
            name = kind.__name__
            plan = _COLLECTOR_PLAN[kind] = (
                getattr(Collector, "visit_" + name, None),
                getattr(Collector, "leave_" + name, None),
                structural_fields(kind),
            )
        visit, leave, fields = plan
        if visit is not None:
            visit(self, node)  # the collector's visit_ hooks never prune
        if fields is None:  # see fastwalk.child_fields
            for child in node.children:
                if type(child) not in TRIVIA:
                    self._walk(child, node, depth + 1)
            fields = ()
        for name in fields:
            value = getattr(node, name)
            if value is None or value is NO_VALUE:
                continue
            kind = type(value)
            if kind is tuple or kind is list:
                for item in value:
                    if type(item) not in TRIVIA:
                        self._walk(item, node, depth + 1)
            elif kind not in TRIVIA:
                self._walk(value, node, depth + 1)
        if leave is not None:
            leave(self, node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.class_stack.append(node)
        self.classes.setdefault(node.name.value, node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node)
        self._parameters(node.params, node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    # Lambdas and comprehensions have names of their own; what they bind is unknown to us.
    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(node)
        self._parameters(node.params, None)

    leave_Lambda = leave_FunctionDef  # type: ignore[assignment]  # libcst types each hook by its node class

    def _enter_comprehension(self, node: Scope) -> None:
        self.scopes.append(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_comprehension  # type: ignore[assignment]
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = leave_FunctionDef  # type: ignore[assignment]

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._record(node.target, cst.Ellipsis())

    def visit_For(self, node: cst.For) -> None:
        self._record(node.target, cst.Ellipsis())

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._record(node.asname.name, cst.Ellipsis())

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._record(node.name.name, cst.Ellipsis())

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._record(original_node.target, original_node.value)

    def leave_Call(self, original_node: cst.Call) -> None:
        # `out.sigmoid_()` changes `out` in place: what it held before no longer says what it is.
        func = original_node.func
        if isinstance(func, cst.Attribute) and func.attr.value.endswith("_") and not func.attr.value.endswith("__"):
            if isinstance(func.value, cst.Name):
                self._record(func.value, cst.Ellipsis())

    def _parameters(self, params: cst.Parameters, function: Optional[cst.FunctionDef]) -> None:
        for param in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            self._record(param.name, ParameterValue(param=param, function=function) if function else cst.Ellipsis())
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._record(star.name, cst.Ellipsis())

    def visit_Import(self, node: cst.Import) -> None:
        imports = self.imports.setdefault(self.scopes[-1], {})
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                imports[alias.asname.name.value] = dotted  # import torch.nn as nn
            else:
                head = dotted.split(".")[0]
                imports[head] = head  # import torch.nn binds `torch`

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar) or (node.module is None and not node.relative):
            return
        module = dotted_name(node.module) if node.module is not None else ""
        if node.relative:  # `from ..models import Net`: kept relative ("..models"), FileSemantics knows the path
            module = "." * len(node.relative) + (module or "")
        imports = self.imports.setdefault(self.scopes[-1], {})
        for alias in node.names:
            name = dotted_name(alias.name)
            if module is None or name is None:
                continue
            bound = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            imports[bound] = f"{module}.{name}" if not module.endswith(".") else module + name

    # Assignments are recorded on leave: a name used inside its own assignment (`x = f(x)`) sees the
    # previous value, as Python does.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._record(target.target, original_node.value)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._record(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        # `x += y` makes x something else: make any later use unknown.
        self._record(original_node.target, original_node)  # type: ignore[arg-type]  # a statement: "unknown"

    def _record(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        index = len(self.order)
        if isinstance(target, cst.Name):
            per_scope = self.assignments.setdefault(self.scopes[-1], {})
            per_scope.setdefault(target.value, []).append((index, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            known = type(value) is not cst.Ellipsis and not any(isinstance(e, cst.StarredElement) for e in elements)
            for index, element in enumerate(elements):  # unpacking: element i of the value, when that can be told
                self._record(element.value, UnpackedValue(source=value, index=index) if known else cst.Ellipsis())
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and self.class_stack
            and len(self.scopes) > 1
        ):
            per_class = self.self_attributes.setdefault(self.class_stack[-1], {})
            per_class.setdefault(target.attr.value, []).append(value)
