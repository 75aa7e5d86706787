"""What the module-structure rules (NN302-NN307) need to know of classes: which are nn.Modules, and which calls build one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Tuple

import libcst as cst

from nnlint.static import torch_api
from nnlint.static.semantics import walk

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

# What `module_construction` returns for `nn.Parameter(...)`.
PARAMETER = torch_api.PARAMETER
# Bases outside torch.nn that are nn.Modules.
MODULE_BASES = torch_api.TORCH_MODULE_BASES | torch_api.LIGHTNING_MODULE_BASES
# Last segments of the capitalised names in torch.nn that are not modules.
_NOT_MODULES = frozenset(name.rsplit(".", 1)[-1] for name in torch_api.NOT_MODULES)
# Bases that surely do not make a class an nn.Module.
_KNOWN_NON_MODULE_PREFIXES = (
    "builtins.",
    "typing.",
    "abc.",
    "enum.",
    "collections.",
    "dataclasses.",
) + torch_api.TORCH_NON_MODULE_PACKAGES
# Keyword arguments that, given False, leave a layer without its weight and bias.
_AFFINE_KEYWORDS = ("affine", "elementwise_affine")
# Names of the modules that are stop-gradient targets by design.
TARGET_NETWORK = re.compile(r"target|teacher|ema|momentum|frozen|pretrained|old|prev|ref", re.IGNORECASE)


def is_parameter(qualified: Optional[str]) -> bool:
    """Whether a qualified name is `nn.Parameter`."""
    return qualified in torch_api.PARAMETER_SPELLINGS


def owns_parameters(qualified: str, construct: cst.Call) -> bool:
    """Whether this call builds a torch layer that owns parameters: a PARAMETERIZED layer not given
    `affine=False` (or `elementwise_affine=False`), or an InstanceNorm given `affine=True`."""
    if qualified in torch_api.PARAMETERIZED:
        return _affine_keyword(construct) != "False"
    if qualified in torch_api.AFFINE_OPTIONAL:
        return _affine_keyword(construct) == "True"
    return False


def _affine_keyword(construct: cst.Call) -> Optional[str]:
    """`True`/`False` when the call passes one of them as `affine=` or `elementwise_affine=`, else None."""
    for arg in construct.args:
        if arg.keyword is not None and arg.keyword.value in _AFFINE_KEYWORDS and isinstance(arg.value, cst.Name):
            if arg.value.value in ("True", "False"):
                return arg.value.value
    return None


def _torch_module_name(qualified: str) -> bool:
    if not qualified.startswith(torch_api.NN) or is_parameter(qualified):
        return False
    parts = qualified[len(torch_api.NN) :].split(".")
    if parts[0] in ("functional", "init", "utils", "parameter"):
        return False
    return parts[-1][:1].isupper() and parts[-1] not in _NOT_MODULES


def find_class(semantics: "FileSemantics", name: str) -> Optional[Tuple["FileSemantics", cst.ClassDef]]:
    """A class of this name in the file, else in another checked file."""
    if name in semantics.classes:
        return semantics, semantics.classes[name]
    found = semantics.project.definitions(name) if name else []
    return found[0] if found else None


def base_class(semantics: "FileSemantics", base: cst.BaseExpression) -> Optional[Tuple["FileSemantics", cst.ClassDef]]:
    """The checked class a base-class expression names, if any."""
    return find_class(semantics, _simple_name(base) or "")


def is_external_non_module(qualified: Optional[str]) -> bool:
    """Whether a qualified base name is a builtin or standard-library type (never a module, never initialising)."""
    return qualified is not None and qualified.startswith(_KNOWN_NON_MODULE_PREFIXES)


def is_module_class(
    semantics: "FileSemantics", klass: cst.ClassDef, _seen: Optional[Set[int]] = None
) -> Optional[bool]:
    """True when a class subclasses nn.Module, False when it surely does not, None when a base is unknown."""
    seen = _seen if _seen is not None else set()
    if id(klass) in seen:
        return None
    seen.add(id(klass))
    answer: Optional[bool] = False
    for base in klass.bases:
        if base.keyword is not None:
            continue
        qualified = semantics.qualified_name(base.value)
        if qualified is not None and (
            qualified in MODULE_BASES or qualified == torch_api.MODULE or _torch_module_name(qualified)
        ):
            return True
        if qualified is not None and qualified.startswith(_KNOWN_NON_MODULE_PREFIXES):
            continue
        found = find_class(semantics, _simple_name(base.value) or "")
        inherited = is_module_class(found[0], found[1], seen) if found is not None else None
        if inherited:
            return True
        if inherited is None:
            answer = None
    return answer


def is_module_like(semantics: "FileSemantics", klass: cst.ClassDef) -> bool:
    """A class that subclasses nn.Module, or has unknown bases and defines `forward`."""
    known = is_module_class(semantics, klass)
    return known is True or (known is None and method(klass, "forward") is not None)


def methods(klass: cst.ClassDef) -> Iterator[cst.FunctionDef]:
    """The methods defined directly in a class body."""
    for statement in klass.body.body:
        if isinstance(statement, cst.FunctionDef):
            yield statement


def method(klass: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    """A method of a class by name."""
    return next((m for m in methods(klass) if m.name.value == name), None)


def owner(semantics: "FileSemantics", node: cst.CSTNode) -> Optional[Tuple[cst.FunctionDef, cst.ClassDef]]:
    """The method whose body contains `node` directly (not in a nested function), and its class."""
    function = semantics.enclosing(node, (cst.FunctionDef, cst.Lambda))
    if not isinstance(function, cst.FunctionDef):
        return None
    block = semantics.parents.get(function)  # FunctionDef -> IndentedBlock -> ClassDef
    klass = semantics.parents.get(block) if block is not None else None
    return (function, klass) if isinstance(klass, cst.ClassDef) else None


def strip_passthrough(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`nn.Linear(2, 3).to(device)` -> `nn.Linear(2, 3)`: drop calls that return the module itself."""
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in torch_api.MODULE_PASSTHROUGH_METHODS
    ):
        expr = expr.func.value
    return expr


def module_construction(semantics: "FileSemantics", expr: cst.BaseExpression) -> Optional[str]:
    """For an expression that builds an nn.Module or nn.Parameter: its qualified (or local) class name."""
    expr = strip_passthrough(expr)
    if not isinstance(expr, cst.Call):
        return None
    qualified = semantics.qualified_name(expr.func)
    if qualified is not None and qualified.startswith("torch"):
        if is_parameter(qualified):
            return PARAMETER
        if _torch_module_name(qualified):
            return qualified
        if qualified in torch_api.MODULE_WRAPPERS and expr.args:
            return module_construction(semantics, expr.args[0].value)
        return None
    name = semantics.local_class(expr.func)
    if name is None:
        return None
    found = find_class(semantics, name)
    if found is not None and is_module_like(found[0], found[1]):
        return name
    return None


def display(class_name: str) -> str:
    """How a user writes a class: `nn.Linear`, or a local class name."""
    return torch_api.short(class_name)


def self_attribute_name(expr: cst.CSTNode) -> Optional[str]:
    """`attr` for `self.attr`, else None."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        return expr.attr.value
    return None


def names_in(node: cst.CSTNode) -> List[cst.Name]:
    """Every Name node inside `node` (including itself)."""
    names = _Names()
    walk(node, names)
    return names.found


class _Names(cst.CSTVisitor):
    # Visitors live at module level: a class made per call is cyclic garbage (with whatever its methods close
    # over, a file's whole tree) that only the cyclic collector frees.
    def __init__(self) -> None:
        super().__init__()
        self.found: List[cst.Name] = []

    def visit_Name(self, name: cst.Name) -> None:
        self.found.append(name)


def _simple_name(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None
