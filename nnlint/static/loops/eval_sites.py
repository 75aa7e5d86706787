"""Evaluation routines and validation loops of a file, and who calls them (used by NN405 and NN407; no torch).

An evaluation site is an evaluation-named function, or a loop over a validation loader, that calls the
model and does no training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

import libcst as cst

from nnlint.static.fastwalk import subtree_end
from nnlint.static.loops.events import (
    AUTOGRAD_GRAD,
    BACKWARD,
    MAYBE_MODEL_CALL,
    MODEL_CALL,
    STEP,
    Event,
    Function,
    Loop,
    Unit,
)
from nnlint.static.loops.queries import is_eval_name, is_test_file, is_val_loader
from nnlint.static.loops.syntax import text_of

if TYPE_CHECKING:
    from nnlint.static.loops.model import LoopModel
    from nnlint.static.semantics import FileSemantics


@dataclass(frozen=True, eq=False)
class EvalSite:
    """Code that evaluates a model: an evaluation-named function, or a loop over a validation loader."""

    function: Function
    loop: Optional[Loop]
    model_calls: Tuple[Event, ...]
    unit: Unit
    trains: bool  # the function around a validation loop also trains: its callers cannot prepare for it


def is_lightning_hook(semantics: FileSemantics, function: cst.FunctionDef) -> bool:
    """Methods of a class that Lightning drives (it has `training_step` or derives from a Lightning class)."""
    klass = semantics.class_of(function)
    if klass is None:
        return False
    for base in klass.bases:
        if "Lightning" in text_of(base.value):
            return True
    return any(isinstance(s, cst.FunctionDef) and s.name.value == "training_step" for s in klass.body.body)


def eval_sites(model: LoopModel) -> List[EvalSite]:
    """Every evaluation routine and validation loop of the file that calls the model and does no training (found
    once per file: the list is shared, not to be changed)."""
    if model.eval_sites is None:
        model.eval_sites = _find_eval_sites(model)
    return model.eval_sites


def _find_eval_sites(model: LoopModel) -> List[EvalSite]:
    semantics = model.semantics
    sites: List[EvalSite] = []
    test_file = is_test_file(semantics.path)
    val_loops = _val_loader_loops(semantics)
    for function in model.functions():
        named = (
            isinstance(function, cst.FunctionDef)
            and is_eval_name(function.name.value)
            and not (test_file and function.name.value.startswith("test"))
            and not is_lightning_hook(semantics, function)
        )
        # the function's events (the costly part) only where it can be a site: a model file's many methods are not
        if not named and not _contains_any(semantics, function, val_loops):
            continue
        if not model.complete(function):
            continue
        events = model.events(function)
        if named:
            unit = Unit(function, None, events)
            _add_site(model, sites, function, None, unit, semantics=semantics)
            continue
        trains = any(e.kind in (BACKWARD, STEP) for e in events)
        for loop in model.loops(function):
            if isinstance(loop, cst.For) and is_val_loader(loop.iter):
                _add_site(model, sites, function, loop, Unit(function, loop, events), trains)
    return sites


def may_have_eval_sites(semantics: FileSemantics) -> bool:
    """Whether the file has an evaluation-named function or a loop over a validation loader, told by one pass over
    its nodes (once per file: NN405 and NN407 both ask): without either it has no evaluation site, and its loop model
    (the costly part) need not be built. Most model files match NN405's and NN407's needles (`val`, `test`) by words
    such as `interval` or `eval`, and have neither."""
    if semantics.may_evaluate is None:
        semantics.may_evaluate = any(
            (kind is cst.FunctionDef and is_eval_name(node.name.value))  # type: ignore[attr-defined]
            or (kind is cst.For and is_val_loader(node.iter))  # type: ignore[attr-defined]
            for node in semantics.order
            for kind in [type(node)]
        )
    return semantics.may_evaluate


def _val_loader_loops(semantics: FileSemantics) -> List[int]:
    """The pre-order indices of the file's `for` loops over a validation loader (one pass over the file: most
    files have none, and every function asks)."""
    order = semantics.order
    return [index for node, index in order.items() if type(node) is cst.For and is_val_loader(node.iter)]  # type: ignore[attr-defined]


def _contains_any(semantics: FileSemantics, function: Function, indices: List[int]) -> bool:
    """Whether one of the nodes at these pre-order indices is inside the function (nested functions too: a
    superset of model.loops(function), told without computing events)."""
    if not indices:
        return False
    start, end = semantics.order[function], subtree_end(function, semantics.order)
    return any(start < index < end for index in indices)


def _add_site(
    model: LoopModel,
    sites: List[EvalSite],
    function: Function,
    loop: Optional[Loop],
    unit: Unit,
    trains: bool = False,
    semantics: Optional[FileSemantics] = None,
) -> None:
    if unit.of(BACKWARD, STEP, AUTOGRAD_GRAD):
        return  # it trains or needs gradients (test-time adaptation, adversarial evaluation)
    calls = tuple(e for e in unit.of(MODEL_CALL, MAYBE_MODEL_CALL) if not any(f.kind == "call" for f in unit.tail(e)))
    if semantics is not None:
        # A named routine evaluates when it runs the model over data (in a loop or a comprehension),
        # on a model it did not build itself: `def test(): net = ResNet18(); net(torch.randn(...))`
        # is a shape check of a fresh model, not an evaluation.
        calls = tuple(
            e
            for e in calls
            if (unit.nested(e) or _in_comprehension(semantics, e.node, function))
            and not _built_in(semantics, e.node, function)
        )
    calls = tuple(e for e in calls if model.runs_model(e))  # last: it may follow values across files
    if calls:
        sites.append(EvalSite(function, loop, calls, unit, trains))


def _in_comprehension(semantics: FileSemantics, node: cst.CSTNode, function: Function) -> bool:
    current = semantics.parents.get(node)
    while current is not None and current is not function:
        if isinstance(current, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            return True
        current = semantics.parents.get(current)
    return False


def _built_in(semantics: FileSemantics, call: cst.CSTNode, function: Function) -> bool:
    """Whether the called model is constructed inside the same function."""
    if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
        return False
    construct = semantics.resolve(call.func)
    if construct is call.func or not isinstance(construct, cst.Call):
        return False
    return semantics.enclosing(construct, (cst.FunctionDef,)) is function


def call_sites(model: LoopModel, function: cst.FunctionDef) -> List[cst.Call]:
    """Calls of `function` in its own file: by resolution, and for a method also `obj.name(...)`.

    Callers in other files are not looked for: a routine only called from elsewhere counts as
    called from code we do not see.
    """
    is_method = model.semantics.class_of(function) is not None
    sites: List[cst.Call] = []
    for call in model.calls_named(function.name.value):
        func = call.func
        if model.callee(call) is function:
            sites.append(call)
        elif is_method and isinstance(func, cst.Attribute) and text_of(func.value) != "self":
            sites.append(call)
    return sites
