"""Value flow between functions, methods and files: what a name may hold when its own function does not say.

Real training code builds the model in `main()` and passes it to `train(model, loader, optimizer)`, keeps the
criterion in `self.criterion`, gets the model from `build_model(cfg)` and wraps it in `nn.DataParallel`. Local
resolution (semantics.py) stops at the parameter, the factory call or the wrapper; `values` goes on:

- a parameter holds the arguments of every call site of its function in the project (keyword, positional,
  the default when a call leaves it out; a call with `*args`/`**kwargs` that may bind it is unknown);
- a call of one of the user's functions (or of a method of an instance of a user class) holds what it returns;
- `a, b = f()` holds element i of what `f()` returns, when that is a literal tuple, and of the arguments of
  `accelerator.prepare(model, opt)` / `fabric.setup(model, opt)`, which return them wrapped in order;
- a model wrapper (`.to()`, `nn.DataParallel(m)`, `torch.compile(m)`, `ddp.module`) holds the model.

Each value keeps the steps that led to it, in the user's words, so a finding can say which call site is wrong.
Several values (call sites that disagree) are several paths; a path that cannot be followed ends in an unknown
value, and rules never report from an unknown. Never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, NamedTuple, Optional, Sequence, Tuple

import libcst as cst

from nnlint.static import calls, torch_api
from nnlint.static.collect import ParameterValue, UnpackedValue, dotted_name

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics

MAX_HOPS = 6  # calls followed from one expression (main -> train -> step -> ...)
MAX_PATHS = 12  # values of one expression; more is "unknown" (a helper called from everywhere says nothing)
BUDGET = 64  # expressions followed for one question: call sites fan out, and each may fan out again


class Step(NamedTuple):
    """One step of a value's way to its use, in the user's words: `passed to `train()` at main.py:75`. The line is
    looked up only when a message is written (positions cost a code-generation pass over the file)."""

    words: str
    semantics: "FileSemantics"
    node: cst.CSTNode

    def __str__(self) -> str:
        return self.words.format(place=f"{self.semantics.path}:{self.semantics.line(self.node)}")


class Value(NamedTuple):
    """One thing an expression may hold: the expression that produced it, in its own file, and how we got there."""

    semantics: "FileSemantics"
    expr: cst.BaseExpression
    via: Tuple[Step, ...] = ()

    @property
    def unknown(self) -> bool:
        """Whether the path ended without an expression that says what the value is."""
        return isinstance(self.expr, cst.Ellipsis)


def values(semantics: "FileSemantics", expr: cst.BaseExpression) -> List[Value]:
    """Every value `expr` may hold, followed across functions and files (see the module docstring)."""
    cache = semantics.values_cache
    key = id(expr)
    if key not in cache:
        cache[key] = _values(semantics, expr, 0, [BUDGET])
    return cache[key]


def _values(semantics: "FileSemantics", expr: cst.BaseExpression, hops: int, budget: List[int]) -> List[Value]:
    resolved = semantics.resolve(expr)
    budget[0] -= 1
    if hops >= MAX_HOPS or budget[0] < 0:
        return [Value(semantics, cst.Ellipsis() if hops else resolved)]
    if isinstance(resolved, ParameterValue):
        return _parameter_values(semantics, resolved, hops, budget)
    if isinstance(resolved, UnpackedValue):
        return _unpacked_values(semantics, resolved, hops, budget)
    inner = wrapped_model(semantics, resolved)
    if inner is not None:
        return _values(semantics, inner, hops + 1, budget)
    if isinstance(resolved, cst.Call):
        returned = _returned_values(semantics, resolved, hops, budget)
        if returned is not None:
            return returned
    return [Value(semantics, resolved)]


def wrapped_model(semantics: "FileSemantics", expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The model inside a wrapper that keeps its forward: `m.to(device)`, `nn.DataParallel(m)`, `torch.compile(m)`,
    `ddp.module`; else None."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "module" and not _is_self(expr.value):
        return expr.value
    if not isinstance(expr, cst.Call):
        return None
    func = expr.func
    if isinstance(func, cst.Attribute) and func.attr.value in torch_api.MODULE_PASSTHROUGH_METHODS:
        if semantics.qualified_name(func) is None:  # a method of the value, not `torch.float`
            return func.value
    prepared = prepared_arguments(semantics, expr)
    if prepared is not None and len(prepared) == 1:
        return prepared[0]  # model = accelerator.prepare(model)
    if semantics.qualified_name(func) in torch_api.MODEL_WRAPPERS and expr.args and not expr.args[0].star:
        first = expr.args[0]
        if first.keyword is None or first.keyword.value in ("module", "model"):
            return first.value
    return None


def _parameter_values(
    semantics: "FileSemantics", parameter: ParameterValue, hops: int, budget: List[int]
) -> List[Value]:
    assert parameter.param is not None and parameter.function is not None
    sites = calls.call_sites(semantics, parameter.function, parameter.param)
    if not sites:
        return [Value(semantics, parameter)]
    found: List[Value] = []
    for site in sites:
        step = _step(site.semantics, site.call)
        if site.argument is None:
            found.append(Value(site.semantics, cst.Ellipsis(), (step,)))
            continue
        found.extend(_prefixed(_values(site.argument_semantics, site.argument, hops + 1, budget), step))
    return found if len(found) <= MAX_PATHS else [Value(semantics, parameter)]


def _unpacked_values(semantics: "FileSemantics", unpacked: UnpackedValue, hops: int, budget: List[int]) -> List[Value]:
    assert unpacked.source is not None
    found: List[Value] = []
    for value in _values(semantics, unpacked.source, hops + 1, budget):
        elements = _elements(value)
        if elements is None:
            found.append(Value(semantics, unpacked))
        elif unpacked.index < len(elements):
            found.extend(_prefixed(_values(value.semantics, elements[unpacked.index], hops + 1, budget), *value.via))
    return found or [Value(semantics, unpacked)]


def _elements(value: Value) -> Optional[List[cst.BaseExpression]]:
    """The items of a tuple or list value, or the arguments a preparing method returns in order; None: unknown."""
    if isinstance(value.expr, (cst.Tuple, cst.List)):
        elements = value.expr.elements
        if any(isinstance(element, cst.StarredElement) for element in elements):
            return None
        return [element.value for element in elements]
    if isinstance(value.expr, cst.Call):
        return prepared_arguments(value.semantics, value.expr)
    return None


def prepared_arguments(semantics: "FileSemantics", call: cst.Call) -> Optional[List[cst.BaseExpression]]:
    """For `accelerator.prepare(model, optimizer)` or `fabric.setup(model, optimizer)`, the arguments it returns
    wrapped, in order; None for any other call."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in torch_api.PREPARING_METHODS.values():
        return None
    if any(arg.star or arg.keyword is not None for arg in call.args):
        return None
    receiver = semantics.resolve(func.value)
    owner = semantics.qualified_name(receiver.func) if isinstance(receiver, cst.Call) else None
    if owner is None or torch_api.PREPARING_METHODS.get(owner) != func.attr.value:
        return None
    return [arg.value for arg in call.args]


def _returned_values(semantics: "FileSemantics", call: cst.Call, hops: int, budget: List[int]) -> Optional[List[Value]]:
    """What a call of one of the user's own functions returns (None: not such a call)."""
    callee = calls.function_called(semantics, call)
    if callee is None:
        return None
    callee_semantics, function = callee
    from nnlint.static.project import return_values

    returned = return_values(function)
    if not returned or any(value is None for value in returned) or len(returned) > MAX_PATHS:
        return [Value(semantics, cst.Ellipsis())]
    step = Step(f"returned by `{function.name.value}()` ({{place}})", callee_semantics, function)
    found: List[Value] = []
    for value in returned:
        assert value is not None
        found.extend(_prefixed(_values(callee_semantics, value, hops + 1, budget), step))
    return found


def _prefixed(found: Sequence[Value], *steps: Step) -> List[Value]:
    return [Value(value.semantics, value.expr, (*steps, *value.via)) for value in found]


def _step(semantics: "FileSemantics", call: cst.Call) -> Step:
    callee = dotted_name(call.func) or "the function"
    return Step(f"passed to `{callee}()` at {{place}}", semantics, call)


def _is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "self"
