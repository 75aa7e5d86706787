"""NN302: layers or Parameters kept in a plain list/dict/tuple attribute, invisible to nn.Module."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import classes, torch_api
from nnlint.static.classes import PARAMETER
from nnlint.static.stateless import is_stateless_module_class
from nnlint.types import Severity

_MUTATORS = frozenset({"append", "insert", "extend", "update", "setdefault"})
_REGISTRATION = frozenset({"add_module", "register_module", "register_parameter", "setattr"})
_PLAIN_FACTORIES = frozenset({"list", "dict", "tuple"})
# Layers and loss modules that hold nothing to train, move or save: harmless in a plain container.
_HARMLESS = torch_api.STATELESS | {torch_api.NN + name for name in torch_api.LOSS_CLASSES}


class UnregisteredSubmodule(StaticRule):
    """Layers kept in a plain list or dict attribute are not registered with the module (rules/NN302.md)."""

    code = "NN302"
    name = "unregistered-submodule"
    needles = ("class",)
    severity = Severity.ERROR

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        semantics = self.context.semantics
        if not classes.is_module_like(semantics, node):
            return
        facts = _AttributeFacts(self, node)
        if facts.registers_manually:
            return
        for attribute in facts.order:
            found = facts.first_module(attribute)
            if found is not None:
                where, class_name, container = found
                self.report(where, _message(attribute, class_name, container))


class _AttributeFacts:
    """What the methods of one class do with each `self.<attr>`: assign, fill, or hand it to a call."""

    def __init__(self, rule: UnregisteredSubmodule, klass: cst.ClassDef) -> None:
        self.semantics = rule.context.semantics
        self.order: List[str] = []
        self.assigned: Dict[str, List[Tuple[cst.CSTNode, cst.BaseExpression]]] = {}
        self.filled: Dict[str, List[Tuple[cst.CSTNode, cst.BaseExpression]]] = {}
        self.handed_over: set = set()
        self.registers_manually = False
        self._method: Optional[cst.FunctionDef] = None
        hooks: Dict[type, Callable[[Any], None]] = {
            cst.Assign: self.visit_Assign,
            cst.AnnAssign: self.visit_AnnAssign,
            cst.AugAssign: self.visit_AugAssign,
            cst.Call: self.visit_Call,
        }
        for method in classes.methods(klass):
            self._method = method
            # the method's nodes in visiting order, nested classes left out (their `self` is another)
            for node in self.semantics.descendants(method.body, prune=(cst.ClassDef,)):
                hook = hooks.get(type(node))
                if hook is not None:
                    hook(node)

    # -- collection ---------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assign(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        attribute = classes.self_attribute_name(node.target)
        if attribute is not None and isinstance(node.operator, cst.AddAssign):
            self._fill(attribute, node, node.value)

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        attribute = classes.self_attribute_name(target)
        if attribute is not None:
            self._note(attribute)
            self.assigned.setdefault(attribute, []).append((target, value))
        elif isinstance(target, cst.Subscript):
            attribute = classes.self_attribute_name(target.value)
            if attribute is not None:
                self._fill(attribute, target, value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = (
            func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
        )
        if name in _REGISTRATION:
            self.registers_manually = True
            return
        if isinstance(func, cst.Attribute) and name in _MUTATORS:
            attribute = classes.self_attribute_name(func.value)
            if attribute is not None:
                for arg in node.args:
                    self._fill(attribute, node, arg.value)
                return
        if self._method is not None and self._method.name.value == "forward":
            return  # iterating or zipping the layers in forward does not register them
        for arg in node.args:
            for inner in self._self_attributes(arg.value):
                self.handed_over.add(inner)

    def _self_attributes(self, expr: cst.BaseExpression) -> List[str]:
        """The `self.<attr>` names read anywhere inside an expression."""
        nodes = [expr, *self.semantics.descendants(expr)]
        names = (classes.self_attribute_name(n) for n in nodes if type(n) is cst.Attribute)
        return [name for name in names if name is not None]

    def _fill(self, attribute: str, where: cst.CSTNode, value: cst.BaseExpression) -> None:
        self._note(attribute)
        self.filled.setdefault(attribute, []).append((where, value))

    def _note(self, attribute: str) -> None:
        if attribute not in self.order:
            self.order.append(attribute)

    # -- decision -----------------------------------------------------------------------------
    def first_module(self, attribute: str) -> Optional[Tuple[cst.CSTNode, str, str]]:
        """Where a module first enters the plain container `self.<attribute>`, its class, and the container kind."""
        if attribute in self.handed_over:
            return None
        assigned = self.assigned.get(attribute, [])
        containers = [_container(self.semantics, value) for _, value in assigned]
        if not assigned or None in containers:
            return None  # assigned a wrapper (nn.ModuleList(...)) or something unknown somewhere
        for (target, value), container in zip(assigned, containers):
            module = self._module_in(value)
            if module is not None:
                return target, module, container  # type: ignore[return-value]
        kind = next((c for c in containers if c is not None and c != "None"), "list")
        for where, value in self.filled.get(attribute, []):
            module = self._module_in(value)
            if module is not None:
                return where, module, kind
        return None

    def _module_in(self, expr: cst.BaseExpression, depth: int = 0) -> Optional[str]:
        """A module or Parameter class built by `expr` or held in the container it builds, ignoring stateless layers."""
        if depth > 6:
            return None
        semantics = self.semantics
        if isinstance(expr, cst.Call):
            built = classes.module_construction(semantics, expr)
            return built if built is not None and not _harmless(semantics, built) else None
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            parts = [element.value for element in expr.elements]
        elif isinstance(expr, cst.Dict):
            parts = [element.value for element in expr.elements if isinstance(element, cst.DictElement)]
        elif isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            parts = [expr.elt]
        elif isinstance(expr, cst.DictComp):
            parts = [expr.value]
        elif isinstance(expr, cst.Name):
            local = self._local(expr)
            parts = [local] if local is not None else []
        else:
            parts = []
        for part in parts:
            found = self._module_in(part, depth + 1)
            if found is not None:
                return found
        return None

    def _local(self, name: cst.Name) -> Optional[cst.BaseExpression]:
        """What a local name holds, when it is used nowhere else (so the module is not registered some other way)."""
        semantics = self.semantics
        value = semantics.assigned_value(name)
        if value is None or semantics.scope_of(name) is semantics.module:
            return None
        scope: Any = semantics.scope_of(name)  # a function's: the module scope was ruled out above
        uses = [n for n in classes.names_in(scope.body) if n.value == name.value]
        return value if len(uses) == 2 else None


def _harmless(semantics, built: str) -> bool:
    """A module that holds nothing to train, move or save and ignores train/eval mode: a torch activation, pooling
    or loss layer, or a class of the checked files with no parameter, buffer or stateful submodule."""
    if built in _HARMLESS:
        return True
    if built.startswith("torch"):
        return False
    found = classes.find_class(semantics, built)
    return found is not None and is_stateless_module_class(found[0], found[1])


def _container(semantics, value: cst.BaseExpression) -> Optional[str]:
    """'list', 'tuple' or 'dict' for a plain container literal, comprehension or `list()` ('None' for `None`); else None."""
    if isinstance(value, cst.Tuple):
        return "tuple"
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value in _PLAIN_FACTORIES
        and not value.args
    ):
        return "dict" if value.func.value == "dict" else "list"
    if isinstance(value, cst.Name) and value.value == "None":
        return "None"  # `self.x = None` elsewhere: still not a registered container
    return None


def _message(attribute: str, class_name: str, container: str) -> str:
    if class_name == PARAMETER:
        what, wrapper = "`nn.Parameter`s", "nn.ParameterDict" if container == "dict" else "nn.ParameterList"
    else:
        what, wrapper = (
            f"`{classes.display(class_name)}` layers",
            "nn.ModuleDict" if container == "dict" else "nn.ModuleList",
        )
    return (
        f"`self.{attribute}` keeps {what} in a plain Python {container}, which `nn.Module` does not look into: "
        "they are missing from `model.parameters()` (the optimizer never updates them), `.to(device)` does "
        "not move them, `model.eval()` does not reach them and `state_dict()` does not save them. "
        f"Wrap the container in `{wrapper}(...)`."
    )
