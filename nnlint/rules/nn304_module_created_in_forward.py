"""NN304: a layer with parameters constructed inside `forward`, so its weights are new and random on every call."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import classes, torch_api
from nnlint.static.fastwalk import walk
from nnlint.types import Severity

_KEEPERS = frozenset({"add_module", "register_module", "setattr", "append", "extend", "insert", "__setitem__"})


class ModuleCreatedInForward(StaticRule):
    """A layer with parameters is built inside `forward`: fresh random weights every call (rules/NN304.md)."""

    code = "NN304"
    name = "module-created-in-forward"
    needles = ("forward",)
    severity = Severity.ERROR

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        if not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        qualified = semantics.qualified_name(node.func)
        if qualified is None or not classes.owns_parameters(qualified, node):
            return
        owner = classes.owner(semantics, node)
        if owner is None or owner[0].name.value != "forward" or not classes.is_module_like(semantics, owner[1]):
            return
        if self._kept(node, owner[0]):
            return
        layer = classes.display(qualified)
        self.report(
            node,
            f"`{layer}(...)` is built inside `forward`, so every call creates a new layer with fresh random "
            "weights: they are not in `model.parameters()` when the optimizer is made, never learn, and the "
            f"output is random noise. Create the layer once in `__init__` (`self.layer = {layer}(...)`) and "
            "call `self.layer(x)` in `forward`; for a parameter-free operation use `torch.nn.functional`.",
        )

    def _kept(self, node: cst.Call, forward: cst.FunctionDef) -> bool:
        """Lazy initialisation: the new layer is stored on `self` (or registered), so it is kept and trained."""
        semantics = self.context.semantics
        layer: cst.CSTNode = node
        parent = semantics.parents.get(layer)
        while isinstance(parent, (cst.Attribute, cst.Call)) and _returns_module(parent, layer):
            layer, parent = parent, semantics.parents.get(parent)  # `nn.Linear(...).to(device)`
        while parent is not None and not isinstance(parent, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            if isinstance(parent, cst.Call) and _callee(parent) in _KEEPERS and parent.func is not layer:
                return True  # `self.add_module("fc", nn.Linear(...))`, `self.heads.append(...)`
            if isinstance(parent, cst.Call) and parent.func is layer:
                return False  # `nn.Linear(...)(x)`: called once and dropped
            parent = semantics.parents.get(parent)
        if not isinstance(parent, (cst.Assign, cst.AnnAssign)):
            return False
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        if any(not isinstance(t, cst.Name) for t in targets):
            return True  # `self.fc = nn.Linear(...)`, `self.heads[k] = ...`: stored
        names = {t.value for t in targets if isinstance(t, cst.Name)}
        return _stored_later(forward, names)


def _callee(call: cst.Call) -> Optional[str]:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _returns_module(parent: cst.CSTNode, layer: cst.CSTNode) -> bool:
    """Whether `parent` is `layer.to(...)` (or `.to` itself), which still holds the module."""
    if isinstance(parent, cst.Attribute):
        return parent.value is layer and parent.attr.value in torch_api.MODULE_PASSTHROUGH_METHODS
    return isinstance(parent, cst.Call) and parent.func is layer and isinstance(layer, cst.Attribute)


def _stored_later(forward: cst.FunctionDef, names: set) -> bool:
    """Whether a local holding the layer is put on `self` or handed to a registering call."""
    finder = _Storing(names)
    walk(forward.body, finder)
    return finder.found


class _Storing(cst.CSTVisitor):
    # module level: a class made per call is cyclic garbage that only the cyclic collector frees
    def __init__(self, names: set) -> None:
        super().__init__()
        self.names, self.found = names, False

    def visit_Assign(self, node: cst.Assign) -> None:
        value = classes.strip_passthrough(node.value)
        if isinstance(value, cst.Name) and value.value in self.names:
            if any(not isinstance(t.target, cst.Name) for t in node.targets):
                self.found = True

    def visit_Call(self, node: cst.Call) -> None:
        if _callee(node) in _KEEPERS and any(
            isinstance(a.value, cst.Name) and a.value.value in self.names for a in node.args
        ):
            self.found = True
