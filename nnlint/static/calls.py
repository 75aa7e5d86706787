"""Calls between the user's own functions, across the files of the project: who calls a function, with what,
and which function a call runs. The questions value flow (flow.py) asks; answered from the parsed files, never
by importing them. Never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, NamedTuple, Optional, Sequence, Tuple

import libcst as cst

from nnlint.static.call_args import argument
from nnlint.static.collect import dotted_name

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

MAX_SITES = 12  # more call sites than this: the function is a general helper and its parameters stay unknown


class CallSite(NamedTuple):
    """One call of a function and what it binds to one parameter: `argument` (None when that cannot be told)
    is an expression of `argument_semantics`' file (the caller's, or the callee's for a default value)."""

    semantics: "FileSemantics"
    call: cst.Call
    argument: Optional[cst.BaseExpression]
    argument_semantics: "FileSemantics"


def function_called(semantics: "FileSemantics", call: cst.Call) -> Optional[Tuple["FileSemantics", cst.FunctionDef]]:
    """The user's function (or method of the enclosing class, via `self.`) that `call` runs, if it can be told."""
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
        klass = semantics.class_of(call)
        method = _method(klass, func.attr.value) if klass is not None else None
        return (semantics, method) if method is not None and not _is_property(method) else None
    if isinstance(func, cst.Attribute) and not _is_self(func.value):
        built = semantics.resolve(func.value)  # `trainer.fit(...)` where `trainer = Trainer(...)`
        if isinstance(built, cst.Call) and semantics.qualified_name(func) is None:
            return _method_of_instance(semantics, built, func.attr.value)
    if isinstance(func, cst.Name) and semantics.qualified_name(func) is None:
        if semantics.resolve(func) is not func:
            return None  # a local name bound to something else
        found = semantics.top_level_functions().get(func.value)
        return (semantics, found) if found is not None else None
    qualified = semantics.qualified_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
    if qualified is None or qualified.startswith("torch"):
        return None
    name = qualified.rsplit(".", 1)[-1]
    matches = [
        (other, other.top_level_functions()[name])
        for other in semantics.project.files_mentioning(
            "def " + name, path=lambda path: module_matches(qualified, path), tokens=(name,)
        )
        if name in other.top_level_functions() and module_matches(qualified, other.path)
    ]
    return matches[0] if len(matches) == 1 else None


def _method_of_instance(
    semantics: "FileSemantics", construct: cst.Call, name: str
) -> Optional[Tuple["FileSemantics", cst.FunctionDef]]:
    """The method `name` of the user class `construct` builds, when exactly one class of that name is checked."""
    class_name = semantics.local_class(construct.func)
    definitions = semantics.project.definitions(class_name) if class_name is not None else []
    if len(definitions) != 1:
        return None
    owner, klass = definitions[0]
    method = _method(klass, name)
    return (owner, method) if method is not None and not _is_property(method) else None


def call_sites(semantics: "FileSemantics", function: cst.FunctionDef, param: cst.Param) -> Optional[List[CallSite]]:
    """Every call of `function` in the project and what it binds to `param`; None when the calls cannot all be
    found (a nested function, a method called through an unknown object, `self` itself)."""
    key = (id(function), param.name.value)
    if key not in semantics.call_sites_cache:
        semantics.call_sites_cache[key] = _call_sites(semantics, function, param)
    return semantics.call_sites_cache[key]


def _call_sites(semantics: "FileSemantics", function: cst.FunctionDef, param: cst.Param) -> Optional[List[CallSite]]:
    klass = semantics.class_of(function)
    if klass is not None and function in klass.body.body:
        return _method_sites(semantics, klass, function, param)
    if function not in semantics.module.body:
        return None
    name = function.name.value
    sites = [
        call
        for call in semantics.calls_named(name)
        if isinstance(call.func, cst.Name)
        and semantics.qualified_name(call.func) is None
        and semantics.resolve(call.func) is call.func
    ]
    found = [(semantics, call) for call in sites]

    def imports_it(qualified: Optional[str]) -> bool:
        return qualified is not None and qualified.endswith("." + name) and module_matches(qualified, semantics.path)

    callers = semantics.project.files_calling(
        (name + "(",), name, imports_it, limit=MAX_SITES - len(found), exclude=semantics.path
    )
    if callers is None:
        return None  # called from everywhere: a general helper
    for other in callers:
        for call in other.calls_named(name):
            if imports_it(other.qualified_name(call.func)):
                found.append((other, call))
    return _bound(found, semantics, function, param, skip_first=False)


def _method_sites(
    semantics: "FileSemantics", klass: cst.ClassDef, function: cst.FunctionDef, param: cst.Param
) -> Optional[List[CallSite]]:
    positional = [*function.params.posonly_params, *function.params.params]
    static = any(dotted_name(d.decorator) == "staticmethod" for d in function.decorators)
    if not static and positional and positional[0] is param:
        return None  # `self`
    class_name, name = klass.name.value, function.name.value
    found: List[Tuple["FileSemantics", cst.Call]] = []
    if name == "__init__":  # `Trainer(model, loss)` anywhere in the project

        def may_build(qualified: Optional[str]) -> bool:  # unqualified: a local or star-imported class, told later
            return qualified is None or module_matches(qualified, semantics.path)

        builders = semantics.project.files_calling((class_name + "(",), class_name, may_build, limit=MAX_SITES)
        if builders is None:
            return None  # built in more places than value flow follows
        for other in builders:
            for call in other.calls_named(class_name):
                if _constructs(other, call, semantics, klass):
                    found.append((other, call))
    else:  # `self.fit(...)` in the class, `trainer.fit(...)` where `trainer = Trainer(...)`
        for call in semantics.calls_named(name):
            func = call.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
                if semantics.class_of(call) is klass:
                    found.append((semantics, call))
        users = semantics.project.files_calling(
            (class_name + "(", "." + name + "("), name, lambda qualified: True, constructing=class_name
        )
        for other in users or []:
            for call in other.calls_named(name):
                receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
                built = other.resolve(receiver) if receiver is not None and not _is_self(receiver) else None
                if isinstance(built, cst.Call) and _constructs(other, built, semantics, klass):
                    found.append((other, call))
    return _bound(found, semantics, function, param, skip_first=not static)


def _bound(
    found: Sequence[Tuple["FileSemantics", cst.Call]],
    semantics: "FileSemantics",
    function: cst.FunctionDef,
    param: cst.Param,
    skip_first: bool,
) -> Optional[List[CallSite]]:
    if len(found) > MAX_SITES:
        return None
    sites = []
    for caller, call in found:
        argument = bind(call, function, param, skip_first)
        if argument is None and _unbound(call, function, param, skip_first) and param.default is not None:
            sites.append(CallSite(caller, call, param.default, semantics))  # the default: the callee's expression
        else:
            sites.append(CallSite(caller, call, argument, caller))
    return sites


def bind(call: cst.Call, function: cst.FunctionDef, param: cst.Param, skip_first: bool) -> Optional[cst.BaseExpression]:
    """The argument `call` passes for `param` of `function`, or None (not passed, or hidden in `*args`/`**kwargs`)."""
    positional = [*function.params.posonly_params, *function.params.params][1 if skip_first else 0 :]
    if param in positional:
        return argument(call, positional.index(param), param.name.value)
    return next(
        (arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == param.name.value), None
    )


def _unbound(call: cst.Call, function: cst.FunctionDef, param: cst.Param, skip_first: bool) -> bool:
    """Whether `call` surely leaves `param` to its default (no star-args that might fill it)."""
    if any(arg.star for arg in call.args):
        return False
    return bind(call, function, param, skip_first) is None


def _constructs(other: "FileSemantics", call: cst.Call, semantics: "FileSemantics", klass: cst.ClassDef) -> bool:
    """Whether `call` (in `other`) builds an instance of `klass` (defined in `semantics`)."""
    name = klass.name.value
    if other.local_class(call.func) != name:
        return False
    if other is semantics:
        return semantics.classes.get(name) is klass
    qualified = other.qualified_name(call.func)
    if qualified is not None:
        return module_matches(qualified, semantics.path)
    return other.project.defined_once(name, semantics.path)


def _method(klass: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    return next((s for s in klass.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def _is_property(function: cst.FunctionDef) -> bool:
    return any(dotted_name(d.decorator) in ("property", "functools.cached_property") for d in function.decorators)


def _is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "self"


def module_matches(imported: str, path: str) -> bool:
    """`from models.net import Net` (models.net.Net) names the class of `.../models/net.py` (or a package's __init__)."""
    module = imported.rsplit(".", 1)[0].split(".")
    stem = path.rsplit("/", 1)[-1][:-3] if path.endswith(".py") else path
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if stem == "__init__":
        parts = parts[:-1]
    return bool(parts) and parts[-len(module) :] == module
