"""NN307: in `forward`, a trainable layer's output is cut from the graph (`.detach()`, `.data`) on its way to the output."""

from __future__ import annotations

from typing import Dict, List, Optional, Set, cast

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import classes, torch_api
from nnlint.static.classes import TARGET_NETWORK
from nnlint.static.fastwalk import walk
from nnlint.static.semantics import sequential_layers
from nnlint.static.torch_api import PARAMETERIZED
from nnlint.types import Severity

_TO_PYTHON = frozenset({"item", "numpy", "tolist"})
_CUTS = frozenset({"detach"}) | _TO_PYTHON
_CUT_METHODS = _CUTS | {"cpu"}


class DetachedInForward(StaticRule):
    """A trainable layer's output is detached in `forward` and is all that is returned (rules/NN307.md)."""

    code = "NN307"
    name = "detached-in-forward"
    needles = ("forward",)
    severity = Severity.WARNING

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        semantics = self.context.semantics
        if node.name.value != "forward" or node.decorators or not isinstance(node.body, cst.IndentedBlock):
            return
        parent = semantics.parents.get(node)
        klass = semantics.parents.get(parent) if parent is not None else None
        if not isinstance(klass, cst.ClassDef) or not classes.is_module_like(semantics, klass):
            return
        if "requires_grad" in self.context.source and _mentions(semantics, klass, "requires_grad"):
            return  # the class freezes something on purpose: detaching its output is deliberate
        self._flow(node.body.body)

    def _flow(self, body) -> None:
        """Follow the cut values through the top-level statements of `forward` to its return value."""
        tainted: Dict[str, tuple] = {}  # name -> (cut node, layer)
        for statement in body:
            if not isinstance(statement, cst.SimpleStatementLine):
                for name in _assigned_names(statement):
                    tainted.pop(name, None)  # rebound in a branch or loop: unclear
                continue
            for small in statement.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    cut = self._cut_value(small.value, tainted)
                    if cut is not None:
                        self.report(cut[0], _message(cut[1], cut[0]))
                elif (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                ):
                    name = small.targets[0].target.value
                    cut = self._cut_value(small.value, tainted)
                    if cut is not None:
                        tainted[name] = cut
                    else:
                        tainted.pop(name, None)
                else:
                    for name in _assigned_names(small):
                        tainted.pop(name, None)

    def _cut_value(self, expr: cst.BaseExpression, tainted: Dict[str, tuple]) -> Optional[tuple]:
        """(cut node, layer) when `expr` depends on nothing but one cut trainable output; else None."""
        if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)):
            return None  # several outputs: a detached one is usually a logged or auxiliary value
        cuts = [
            cut
            for cut in _cut_candidates(self.context.semantics, expr)
            if self._trainable(_base(cut)) is not None and not _harmless(self, cut)
        ]
        cuts = [cut for cut in cuts if not any(other is not cut and _contains(cut, other) for other in cuts)]
        reads = _variable_reads(self.context.semantics, expr, skip=cuts)
        if cuts:
            if len(cuts) == 1 and all(name in tainted for name in reads) and not _in_sum(self, cuts[0], expr):
                return cuts[0], self._trainable(_base(cuts[0]))
            return None
        if reads and all(name in tainted for name in reads):
            first = tainted[reads[0]]
            if all(tainted[name] == first for name in reads):
                return first
        return None

    def _trainable(self, expr: cst.BaseExpression) -> Optional[str]:
        """`self.<attr>` when `expr` calls a submodule with parameters (directly or through a local name)."""
        semantics = self.context.semantics
        expr = _strip_tensor_passthrough(expr)
        if isinstance(expr, cst.Name):
            value = semantics.assigned_value(expr)
            if value is None or semantics.scope_of(expr) is semantics.module:
                return None
            expr = _strip_tensor_passthrough(value)
        if not isinstance(expr, cst.Call):
            return None
        attribute = classes.self_attribute_name(expr.func)
        if attribute is None or TARGET_NETWORK.search(attribute):
            return None
        built_by = semantics.self_attribute(cast(cst.Attribute, expr.func))  # a self attribute: named above
        built = classes.module_construction(semantics, built_by) if built_by is not None else None
        if built is None or built == classes.PARAMETER:
            return None
        if built.startswith("torch."):
            if built == torch_api.SEQUENTIAL:
                construct = classes.strip_passthrough(cast(cst.BaseExpression, built_by))
                layers = sequential_layers(construct) if isinstance(construct, cst.Call) else []
                if not any(classes.module_construction(semantics, layer) in PARAMETERIZED for layer in layers):
                    return None
            elif built not in PARAMETERIZED:
                return None
        return f"self.{attribute}"


def _cut_candidates(semantics, expr: cst.BaseExpression) -> List[cst.CSTNode]:
    """`.detach()` calls, `.data` reads and `.item()`/`.numpy()`/`.tolist()` calls inside an expression
    (not inside lambdas)."""
    if isinstance(expr, cst.Lambda):
        return []
    found: List[cst.CSTNode] = []
    for node in [expr, *semantics.descendants(expr, prune=(cst.Lambda,))]:
        kind = type(node)
        if kind is cst.Call:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _CUTS and not node.args:
                found.append(node)
        elif kind is cst.Attribute and node.attr.value == "data":
            found.append(node)
    return found


def _base(cut: cst.CSTNode) -> cst.BaseExpression:
    """The value a cut is applied to: `x` in `x.detach()` or `x.data`, skipping other cuts and moves."""
    value = cut.func.value if isinstance(cut, cst.Call) else cut.value  # type: ignore[attr-defined]
    while True:
        stripped = _strip_tensor_passthrough(value)
        if (
            isinstance(stripped, cst.Call)
            and isinstance(stripped.func, cst.Attribute)
            and stripped.func.attr.value in _CUT_METHODS
        ):
            value = stripped.func.value
        elif isinstance(stripped, cst.Attribute) and stripped.attr.value == "data":
            value = stripped.value
        else:
            return stripped


def _strip_tensor_passthrough(expr: cst.BaseExpression) -> cst.BaseExpression:
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in torch_api.PASSTHROUGH_METHODS
    ):
        expr = expr.func.value
    return expr


def _harmless(rule: DetachedInForward, cut: cst.CSTNode) -> bool:
    """`.item()`/`.numpy()`/`.tolist()` give Python values: only a cut when turned back into a tensor."""
    if not (isinstance(cut, cst.Call) and isinstance(cut.func, cst.Attribute) and cut.func.attr.value in _TO_PYTHON):
        return False
    semantics = rule.context.semantics
    parent = semantics.parents.get(cut)
    while parent is not None and not isinstance(parent, cst.BaseSmallStatement):
        if isinstance(parent, cst.Call) and semantics.qualified_name(parent.func) in torch_api.TENSOR_FROM_DATA:
            return False
        parent = semantics.parents.get(parent)
    return True


def _in_sum(rule: DetachedInForward, cut: cst.CSTNode, top: cst.CSTNode) -> bool:
    """A cut inside `+`/`-` with other terms, as in the straight-through estimator `x + (q - x).detach()`."""
    semantics = rule.context.semantics
    node: Optional[cst.CSTNode] = cut
    while node is not top and node is not None:
        parent = semantics.parents.get(node)
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, (cst.Add, cst.Subtract)):
            return True
        node = parent
    return False


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    finder = _Finder(inner)
    walk(outer, finder)
    return finder.found


class _Finder(cst.CSTVisitor):
    # The visitors live at module level: a class made per call is cyclic garbage, and its methods' closures keep
    # the file's semantics (and so its whole tree) alive until the cyclic collector runs.
    def __init__(self, inner: cst.CSTNode) -> None:
        super().__init__()
        self.inner, self.found = inner, False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.inner:
            self.found = True
        return not self.found


def _variable_reads(semantics, expr: cst.BaseExpression, skip: List[cst.CSTNode]) -> List[str]:
    """Local variables read by an expression, outside the `skip` subtrees (names of imports, builtins and `self` excluded)."""
    reads = _Reads(semantics, {id(node) for node in skip})
    walk(expr, reads)
    return reads.names


class _Reads(cst.CSTVisitor):
    def __init__(self, semantics, skipped: Set[int]) -> None:
        super().__init__()
        self.semantics, self.skipped = semantics, skipped
        self.names: List[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skipped:
            return False
        if isinstance(node, cst.Attribute):
            walk(node.value, self)
            return False
        if isinstance(node, cst.Arg):
            walk(node.value, self)
            return False
        if isinstance(node, (cst.Lambda, cst.ListComp, cst.GeneratorExp, cst.DictComp, cst.SetComp)):
            self.names.append("<comprehension>")
            return False
        if isinstance(node, cst.Name) and node.value not in ("self", "True", "False", "None"):
            if self.semantics.qualified_name(node) is None:
                self.names.append(node.value)
        return True


def _mentions(semantics, klass: cst.ClassDef, word: str) -> bool:
    """Whether a name, attribute or string inside the class contains `word` (`p.requires_grad_(False)`,
    `requires_grad=False`). Read from the collector's node list: generating the class's code to search it took
    more time than the rest of the rule."""
    for node in semantics.descendants(klass):
        kind = type(node)
        if kind is cst.Name or kind is cst.SimpleString or kind is cst.FormattedStringText:
            if word in node.value:
                return True
    return False


def _assigned_names(node: cst.CSTNode) -> List[str]:
    """Every name bound anywhere inside a statement (assignments, loops, `with ... as`, augmented assignments)."""
    targets = _Targets()
    walk(node, targets)
    return targets.names


class _Targets(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: List[str] = []

    def visit_AssignTarget(self, target: cst.AssignTarget) -> None:
        self.names.extend(n.value for n in classes.names_in(target.target))

    def visit_AugAssign(self, statement: cst.AugAssign) -> None:
        self.names.extend(n.value for n in classes.names_in(statement.target))

    def visit_AnnAssign(self, statement: cst.AnnAssign) -> None:
        self.names.extend(n.value for n in classes.names_in(statement.target))

    def visit_For(self, statement: cst.For) -> None:
        self.names.extend(n.value for n in classes.names_in(statement.target))

    def visit_AsName(self, alias: cst.AsName) -> None:
        self.names.extend(n.value for n in classes.names_in(alias.name))


def _message(layer: str, cut: cst.CSTNode) -> str:
    how = f"`.{cut.func.attr.value}()`" if isinstance(cut, cst.Call) else "`.data`"  # type: ignore[attr-defined]
    return (
        f"The output of `{layer}` is cut from the autograd graph by {how} here, and that cut value is all "
        f"`forward` returns: no gradient reaches `{layer}`, so its weights never train while the layers "
        "after it do (the loss still falls, so nothing looks wrong). Remove the cut; if freezing is "
        f"intended, say so: `{layer}.requires_grad_(False)` in `__init__`."
    )
