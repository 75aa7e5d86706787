"""Layer wiring and code context for the numerics, wiring and tracking rules (NN206, NN308, NN402, NN408, NN501).

Two layers "in a row" are adjacent in an `nn.Sequential` (positional or `OrderedDict`), in a list
literal, or in consecutive `.append` calls on one list; `LayerPairRule` visits those. What a value
is in `forward` dataflow comes from `FileSemantics`; this module adds what it does not know:
activations, the class and bias of a layer, module methods and `no_grad` regions.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import torch_api
from nnlint.static.project import method
from nnlint.static.semantics import FileSemantics, argument, sequential_layers, walk
from nnlint.static.torch_api import Kind

# What `bias_argument` returns for a layer that leaves `bias` at its default, True.
DEFAULT_BIAS = cst.Name("True")

# Words in a function's name that say it computes something to differentiate.
_LOSS_WORDS = ("loss", "criterion", "triplet", "contrastive")
_INIT_METHODS = frozenset({"__init__", "reset_parameters", "_init_weights", "init_weights"})


class LayerPairRule(StaticRule):
    """Base for rules about two layers in a row; subclasses define `check_pair` and, for `forward` dataflow, `check_call`."""

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.semantics.qualified_name(node.func) == torch_api.SEQUENTIAL:
            self.check_layers(sequential_layers(node))
        else:
            self.check_call(node)

    def visit_List(self, node: cst.List) -> None:
        if self._in_unordered_container(node):
            return  # nn.ModuleList([...]) / ModuleDict: no order of execution is implied
        self.check_layers([element.value for element in node.elements if not isinstance(element, cst.StarredElement)])

    def _in_unordered_container(self, node: cst.List) -> bool:
        semantics = self.context.semantics
        argument = semantics.parents.get(node)
        argument_of = semantics.parents.get(argument) if argument is not None else None  # List -> Arg -> Call
        if not isinstance(argument_of, cst.Call):
            return False
        return semantics.qualified_name(argument_of.func) in torch_api.UNORDERED_CONTAINERS

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._check_appends(node.body)

    def visit_Module(self, node: cst.Module) -> None:
        self._check_appends(node.body)

    def check_layers(self, layers: Sequence[cst.BaseExpression]) -> None:
        """Check each pair of adjacent layers of one sequence."""
        for first, second in zip(layers, layers[1:]):
            self.check_pair(first, second)

    def check_pair(self, first: cst.BaseExpression, second: cst.BaseExpression) -> None:
        """Called for every two layers in a row."""

    def check_call(self, node: cst.Call) -> None:
        """Called for every call that does not build an `nn.Sequential`."""

    def _check_appends(self, body: Sequence[cst.CSTNode]) -> None:
        """`layers.append(nn.Dropout()); layers.append(nn.BatchNorm1d(n))` in consecutive statements."""
        previous: Optional[tuple] = None
        for line in body:
            if not isinstance(line, cst.SimpleStatementLine):
                previous = None  # a loop or branch in between: the two appends are not adjacent
                continue
            for statement in line.body:
                appended = _appended(statement)
                if appended is not None and previous is not None and previous[0] == appended[0]:
                    self.check_layers([previous[1], appended[1]])
                previous = appended


def _appended(statement: cst.BaseSmallStatement) -> Optional[tuple]:
    """(list name, layer) for `name.append(layer)`."""
    if not isinstance(statement, cst.Expr) or not isinstance(statement.value, cst.Call):
        return None
    call = statement.value
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "append" and len(call.args) == 1:
        return (cst.Module([]).code_for_node(func.value), call.args[0].value)
    return None


def layer_class(semantics: FileSemantics, layer: cst.BaseExpression) -> Optional[Tuple[str, cst.Call]]:
    """The torch class and constructor call of a layer expression such as `nn.ReLU()` or a name bound to one."""
    construct = semantics.resolve(layer)
    if not isinstance(construct, cst.Call):
        return None
    qualified = semantics.qualified_name(construct.func)
    if qualified is None or not qualified.startswith("torch"):
        return None
    return qualified, construct


def producer(semantics: FileSemantics, value: Optional[cst.BaseExpression]) -> Optional[cst.Call]:
    """The call whose result `value` is, following local names (`x = self.conv(x)`)."""
    if value is None:
        return None
    resolved = semantics.resolve(value)
    return resolved if isinstance(resolved, cst.Call) else None


def bias_argument(class_name: str, construct: cst.Call) -> Optional[cst.BaseExpression]:
    """The expression given for `bias`, `DEFAULT_BIAS` when it is left at its default, or None when unknowable."""
    position = torch_api.BIAS_POSITION.get(class_name)
    if position is None or any(arg.star for arg in construct.args):
        return None  # *args / **kwargs may carry it
    value = argument(construct, position, "bias")
    return value if value is not None else DEFAULT_BIAS


def is_logits(semantics: FileSemantics, value: Optional[cst.BaseExpression]) -> bool:
    """Whether `value` holds raw logits: the output of a Linear layer, `F.linear`, or a model returning one."""
    if value is None:
        return False
    origin = semantics.origin(value)
    return origin is not None and origin.kind is Kind.LOGITS


def self_attribute_calls(klass: cst.ClassDef, attribute: str) -> int:
    """How many times `self.<attribute>(...)` is called in the methods of a class."""
    finder = _SelfCallCounter(attribute)
    walk(klass.body, finder)
    return finder.count


class _SelfCallCounter(cst.CSTVisitor):
    def __init__(self, attribute: str) -> None:
        super().__init__()
        self.attribute = attribute
        self.count = 0

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == self.attribute
            and isinstance(func.value, cst.Name)
            and func.value.value == "self"
        ):
            self.count += 1


def is_module_class(semantics: FileSemantics, klass: cst.ClassDef, seen: Tuple[str, ...] = ()) -> bool:
    """Whether a class is an `nn.Module`: a torch.nn or Lightning base, a local class that is one, or a `forward` method."""
    for base in klass.bases:
        if base.keyword is not None:
            continue
        qualified = semantics.qualified_name(base.value)
        if qualified is not None and (qualified.startswith(torch_api.NN) or qualified.endswith("LightningModule")):
            return True
        name = base.value.value if isinstance(base.value, cst.Name) else None
        local = semantics.classes.get(name) if name else None
        if local is not None and name not in seen and is_module_class(semantics, local, (*seen, str(name))):
            return True
    return bool(klass.bases) and method(klass, "forward") is not None


def enclosing_module_method(semantics: FileSemantics, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    """The method of an `nn.Module` subclass that directly contains `node`, taking `self` first; else None."""
    function = semantics.enclosing(node, (cst.FunctionDef,))
    if function is None:
        return None
    block = semantics.parents.get(function)
    klass = semantics.parents.get(block) if block is not None else None
    if not isinstance(klass, cst.ClassDef):
        return None
    params = function.params.params
    if not params or params[0].name.value != "self":
        return None
    if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in function.decorators):
        return None
    return function if is_module_class(semantics, klass) else None


def _decorator_name(decorator: cst.Decorator) -> Optional[str]:
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def without_gradients(semantics: FileSemantics, node: cst.CSTNode) -> bool:
    """Whether `node` runs with autograd off or only at construction: in `with torch.no_grad()`, a `@torch.no_grad()` function, or `__init__`."""
    current = semantics.parents.get(node)
    while current is not None:
        if isinstance(current, cst.With) and any(_is_no_grad(semantics, item.item) for item in current.items):
            return True
        if isinstance(current, cst.FunctionDef):
            if current.name.value in _INIT_METHODS:
                return True
            if any(_is_no_grad(semantics, d.decorator) for d in current.decorators):
                return True
        current = semantics.parents.get(current)
    return False


def in_differentiated_code(semantics: FileSemantics, node: cst.CSTNode) -> bool:
    """Whether gradients plausibly flow through `node`: a module method or a loss/distance function, outside `no_grad`."""
    if without_gradients(semantics, node):
        return False
    if enclosing_module_method(semantics, node) is not None:
        return True
    function = semantics.enclosing(node, (cst.FunctionDef,))
    while function is not None:
        if any(word in function.name.value.lower() for word in _LOSS_WORDS):
            return True
        function = semantics.enclosing(function, (cst.FunctionDef,))
    return False


def _is_no_grad(semantics: FileSemantics, expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call):
        expr = expr.func
    return semantics.qualified_name(expr) in torch_api.NO_GRAD_CONTEXTS
