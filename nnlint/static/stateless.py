"""Whether a module class of the checked files holds nothing that registration would give it.

A module registered with its parent is found by `parameters()`, `buffers()`, `state_dict()`, `.to()`,
`.train()`/`.eval()`. A class whose instances own no parameter, no buffer, no submodule and whose
behaviour does not depend on `self.training` loses none of that when it is kept in a plain list
(NN302): judged from the class's own source, and precision first: anything unclear counts as state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Set

import libcst as cst

from nnlint.static import classes, torch_api

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

# Calls that give a module state by hand.
_REGISTERS = frozenset({"register_buffer", "register_parameter", "register_module", "add_module", "setattr"})
# Builtins whose result is never a module.
_PLAIN_BUILTINS = frozenset(
    {"int", "float", "bool", "str", "len", "min", "max", "round", "abs", "tuple", "list", "dict", "set", "range"}
)
# Annotations of arguments that are surely not modules.
_PLAIN_ANNOTATIONS = frozenset({"int", "float", "bool", "str", "tuple", "list", "dict"})
_LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_ARITHMETIC = (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison)


def is_stateless_module_class(
    semantics: "FileSemantics", klass: cst.ClassDef, _seen: Optional[Set[int]] = None
) -> bool:
    """True when instances of `klass` surely own no parameter, buffer or submodule and ignore train/eval mode."""
    seen = _seen if _seen is not None else set()
    if id(klass) in seen:
        return False
    seen.add(id(klass))
    if not all(_stateless_base(semantics, base, seen) for base in klass.bases):
        return False
    return not _ClassFacts(semantics, klass, seen).has_state


def _stateless_base(semantics: "FileSemantics", base: cst.Arg, seen: Set[int]) -> bool:
    if base.keyword is not None:
        return False  # a metaclass: unknown
    if semantics.qualified_name(base.value) == torch_api.MODULE:
        return True
    found = classes.base_class(semantics, base.value)
    return found is not None and is_stateless_module_class(found[0], found[1], seen)


class _ClassFacts:
    """One pass over the nodes of a class body: does anything in it give the instances state?"""

    def __init__(self, semantics: "FileSemantics", klass: cst.ClassDef, seen: Set[int]) -> None:
        self.semantics = semantics
        self.seen = seen
        self.has_state = False
        nodes = semantics.descendants(klass.body)
        self._uses = [node for node in nodes if type(node) is cst.Attribute and _self_attribute(node) is not None]
        for node in nodes:
            if self.has_state:
                return
            if isinstance(node, cst.Call):
                self._check_call(node)
            elif isinstance(node, cst.Assign):
                for target in node.targets:
                    self._check_assignment(target.target, node.value)
            elif isinstance(node, cst.AnnAssign) and node.value is not None:
                self._check_assignment(node.target, node.value)
            elif isinstance(node, cst.AugAssign):
                self._check_assignment(node.target, node.value)
            elif type(node) is cst.Attribute and _self_attribute(node) == "training":
                self.has_state = True  # behaves differently in train and eval mode: `.eval()` must reach it
            elif isinstance(node, cst.ClassDef):
                self.has_state = True  # a nested class: not worth following

    def _check_call(self, call: cst.Call) -> None:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name in _REGISTERS:
            self.has_state = True
            return
        built = classes.module_construction(self.semantics, call)
        if built is not None and not self._stateless_module(built):
            self.has_state = True  # a Parameter or a submodule with state, wherever it ends up

    def _stateless_module(self, built: str) -> bool:
        """A torch layer with nothing to train, move or save, or a stateless class of the checked files."""
        if built in torch_api.STATELESS:
            return True
        if built.startswith("torch"):
            return False
        found = classes.find_class(self.semantics, built)
        return found is not None and is_stateless_module_class(found[0], found[1], self.seen)

    def _check_assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        attribute = _self_attribute(target)
        if attribute is not None and not self._plain(value, attribute):
            self.has_state = True

    def _plain(self, value: cst.BaseExpression, attribute: str) -> bool:
        """Whether a value stored in `self.<attribute>` is surely not a module, a Parameter or a buffer."""
        if isinstance(value, _LITERALS) or isinstance(value, _ARITHMETIC):
            return True
        if isinstance(value, cst.Name):
            if value.value in ("True", "False", "None"):
                return True
            return self._plain_argument(value, attribute)
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            return all(self._plain(element.value, attribute) for element in value.elements)
        if isinstance(value, cst.Dict):
            return all(
                isinstance(element, cst.DictElement) and self._plain(element.value, attribute)
                for element in value.elements
            )
        if isinstance(value, cst.BooleanOperation):
            return self._plain(value.left, attribute) and self._plain(value.right, attribute)
        if isinstance(value, cst.IfExp):
            return self._plain(value.body, attribute) and self._plain(value.orelse, attribute)
        if isinstance(value, cst.Attribute):  # `F.relu`, `math.pi`: a function or constant of a module
            qualified = self.semantics.qualified_name(value)
            return qualified is not None and _is_function_name(qualified)
        if isinstance(value, cst.Call):
            built = classes.module_construction(self.semantics, value)
            if built is not None:
                return self._stateless_module(built)
            func = value.func
            if isinstance(func, cst.Name) and func.value in _PLAIN_BUILTINS:
                return all(self._plain(arg.value, attribute) for arg in value.args)
            qualified = self.semantics.qualified_name(func)
            # a torch function (`torch.tensor`, `math.sqrt`): a value, never a module; tensors kept in a plain
            # attribute are not moved by `.to()` even when the module is registered, so nothing is lost either way
            return qualified is not None and _is_function_name(qualified)
        return False

    def _plain_argument(self, name: cst.Name, attribute: str) -> bool:
        """An argument of the method stored as is: plain when its annotation or default says so, or when the
        attribute is only ever read as a value (never called, indexed or iterated, as a module or a list of them)."""
        function = self.semantics.enclosing(name, (cst.FunctionDef,))
        if function is None:
            return False
        param = _parameter(function, name.value)
        if param is None:
            return False
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is not None:
            return isinstance(annotation, cst.Name) and annotation.value in _PLAIN_ANNOTATIONS
        if param.default is not None and isinstance(param.default, _LITERALS + (cst.UnaryOperation,)):
            return True
        return not any(self._used_as_callable(use) for use in self._uses if _self_attribute(use) == attribute)

    def _used_as_callable(self, use: cst.Attribute) -> bool:
        parent = self.semantics.parents.get(use)
        if isinstance(parent, cst.Call) and parent.func is use:
            return True
        if isinstance(parent, cst.Subscript) and parent.value is use:
            return True
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is use:
            return True
        return isinstance(parent, cst.Arg)  # handed to `zip`, `enumerate`, another module...: unclear


def _parameter(function: cst.FunctionDef, name: str) -> Optional[cst.Param]:
    params: List[cst.Param] = [*function.params.params, *function.params.kwonly_params, *function.params.posonly_params]
    return next((param for param in params if param.name.value == name), None)


def _is_function_name(qualified: str) -> bool:
    """`torch.tensor`, `math.sqrt`: a function of an imported module, by its lower-case last segment."""
    last = qualified.rsplit(".", 1)[-1]
    return "." in qualified and last[:1].islower()


def _self_attribute(node: cst.CSTNode) -> Optional[str]:
    return classes.self_attribute_name(node)
