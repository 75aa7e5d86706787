"""LoopModel: the events of every function of a file, built lazily and shared by the training-loop rules.

Imports libcst and the other loop modules; never torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from nnlint.static.loops.events import (
    MAX_EVENTS,
    MAYBE_MODE,
    MAYBE_MODEL_CALL,
    MODE_KINDS,
    MODEL_CALL,
    Event,
    Frame,
    Function,
    Loop,
    Unit,
)
from nnlint.static.loops.index import FileIndex
from nnlint.static.loops.queries import grad_context
from nnlint.static.loops.roles import is_model_callee, receiver_role
from nnlint.static.loops.syntax import last_name, text_of
from nnlint.static.loops.walker import Walker

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics


class LoopModel:
    """The training-loop model of one file, built lazily and shared by all rules that check it."""

    def __init__(self, semantics: FileSemantics) -> None:
        self.semantics = semantics
        self.module = semantics.module
        index = FileIndex(semantics)
        self.index = index
        self.relevant = index.relevant
        self._defs = index.defs
        self._owner = index.owner
        self.function_defs: List[cst.FunctionDef] = index.functions
        self._events: Dict[int, List[Event]] = {}
        self._loops: Dict[int, List[Loop]] = {}
        self._incomplete: Set[int] = set()
        self._computing: List[int] = []
        self._roles: Dict[int, Optional[str]] = {}
        self._runs_model: Dict[int, bool] = {}
        self._calls_by_name: Optional[Dict[str, List[cst.Call]]] = None
        self._class_names: Optional[Dict[str, cst.ClassDef]] = None
        self.eval_sites: Optional[list] = None  # eval_sites.eval_sites' cache: NN405 and NN407 both ask

    # -- functions and units -------------------------------------------------------------------
    def functions(self) -> List[Function]:
        """Every function of the file, and the module body last."""
        return [*self.function_defs, self.module]

    def events(self, function: Function) -> List[Event]:
        """The relevant calls of one function body in execution order, with same-file helpers spliced in."""
        key = id(function)
        if key in self._events:
            return self._events[key]
        if key in self._computing:
            return []
        self._computing.append(key)
        out: List[Event] = []
        loops: List[Loop] = []
        path: Tuple[Frame, ...] = ()
        if isinstance(function, cst.FunctionDef):
            for decorator in function.decorators:
                context = grad_context(self.semantics, decorator.decorator)
                if context is not None:
                    path = path + (Frame(context, decorator),)
        cut_before = len(self._incomplete)
        walker = Walker(self, out, loops)
        if isinstance(function, cst.Module):
            walker.statements(function.body, path)
        else:
            walker.block(function.body, path)
        self._computing.pop()
        self._loops[key] = loops
        if len(out) > MAX_EVENTS:
            del out[MAX_EVENTS:]
            self._incomplete.add(key)
        if len(self._incomplete) == cut_before or key in self._incomplete:
            self._events[key] = out  # results cut by recursion are recomputed when asked directly
        return out

    def cut_recursion(self, callee: cst.FunctionDef) -> bool:
        """Whether a call of `callee` recurses into a function being walked; if so, that walk is incomplete."""
        if id(callee) not in self._computing:
            return False
        self._incomplete.add(self._computing[-1])
        return True

    def complete(self, function: Function) -> bool:
        """Whether the events of a function are all there (no recursion cut, no size cap)."""
        self.events(function)
        return id(function) not in self._incomplete

    def loops(self, function: Function) -> List[Loop]:
        """The loops written in one function body (not in nested functions)."""
        self.events(function)
        return self._loops.get(id(function), [])

    def units(self, function: Function) -> Iterator[Unit]:
        """One unit per loop of the function, then the function body itself."""
        events = self.events(function)
        for loop in self.loops(function):
            yield Unit(function, loop, events)
        yield Unit(function, None, events)

    # -- same-file callees ---------------------------------------------------------------------
    def callee(self, call: cst.Call) -> Optional[cst.FunctionDef]:
        """The same-file function a call runs: a nested or module-level def by name, or `self.method`."""
        func = call.func
        if isinstance(func, cst.Name):
            return self.function_named(call, func.value)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            klass = self.semantics.class_of(call)
            if klass is not None:
                return self._method(klass, func.attr.value, 0)
        return None

    def _method(self, klass: cst.ClassDef, name: str, depth: int) -> Optional[cst.FunctionDef]:
        """`self.name` in a method of `klass`: its own method, else one of a base class written in the same file."""
        found = self._unique(klass, name)
        if found is not None or depth > 4 or name in self._defs.get(id(klass), {}):
            return found  # defined twice in the class (property setters, overloads): unknown
        for base in klass.bases:
            value = base.value
            parent = self._classes().get(value.value) if isinstance(value, cst.Name) else None
            if parent is not None and parent is not klass:
                found = self._method(parent, name, depth + 1)
                if found is not None:
                    return found
        return None

    def _classes(self) -> Dict[str, cst.ClassDef]:
        """The module-level classes of the file, by name (a name defined twice is left out)."""
        if self._class_names is None:
            named: Dict[str, List[cst.ClassDef]] = {}
            for statement in self.module.body:
                if isinstance(statement, cst.ClassDef):
                    named.setdefault(statement.name.value, []).append(statement)
            self._class_names = {name: found[0] for name, found in named.items() if len(found) == 1}
        return self._class_names

    def function_named(self, at: cst.CSTNode, name: str) -> Optional[cst.FunctionDef]:
        """The one function `name` means at `at`: defined in an enclosing function, else at module level."""
        scope: Optional[cst.CSTNode] = self.semantics.enclosing(at, (cst.FunctionDef,))
        while scope is not None:
            found = self._unique(scope, name)
            if found is not None:
                return found
            scope = self._owner.get(id(scope))
            if isinstance(scope, cst.ClassDef):
                scope = self.semantics.enclosing(scope, (cst.FunctionDef,))
        return self._unique(self.module, name)

    def _unique(self, scope: cst.CSTNode, name: str) -> Optional[cst.FunctionDef]:
        found = self._defs.get(id(scope), {}).get(name, [])
        return found[0] if len(found) == 1 else None

    # -- roles of receivers --------------------------------------------------------------------
    def role(self, expr: cst.BaseExpression) -> Optional[str]:
        """'optimizer', 'scheduler' or 'scaler' for a receiver, by its construction, else by its name."""
        key = id(expr)
        if key not in self._roles:
            self._roles[key] = receiver_role(self.semantics, expr)
        return self._roles[key]

    def runs_model(self, event: Event) -> bool:
        """Whether an event is a call of the model: named like it (MODEL_CALL), or a MAYBE_MODEL_CALL whose callee
        turns out to be an instance of a model class (asked here, once per call, only when a rule needs it)."""
        if event.kind == MODEL_CALL:
            return True
        if event.kind != MAYBE_MODEL_CALL or not isinstance(event.node, cst.Call):
            return False
        key = id(event.node)
        if key not in self._runs_model:
            self._runs_model[key] = self.is_model_callee(event.node.func)
        return self._runs_model[key]

    def is_model_callee(self, func: cst.BaseExpression) -> bool:
        """Whether a callee looks like the model: named like one, or an instance of a model class of the checked files."""
        return is_model_callee(self.semantics, func)

    def optimizer_construction(self, step: Event) -> Optional[cst.Call]:
        """The call that built the optimizer of a step (`torch.optim.SGD(...)`), when it is visible."""
        call = step.node
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return None
        receiver = call.func.value
        if step.amp:
            positional = [arg for arg in call.args if arg.keyword is None]
            if not positional:
                return None
            receiver = positional[0].value
        construct = self.semantics.resolve(receiver)
        if construct is receiver or not isinstance(construct, cst.Call):
            return None
        return construct

    def optimizer_params_owner(self, step: Event) -> Optional[str]:
        """`model` when the stepped optimizer is built as `torch.optim.X(model.parameters(), ...)`, else None."""
        construct = self.optimizer_construction(step)
        if construct is None or not construct.args:
            return None
        params = construct.args[0].value
        if (
            isinstance(params, cst.Call)
            and isinstance(params.func, cst.Attribute)
            and params.func.attr.value == "parameters"
        ):
            return text_of(params.func.value)
        return None

    # -- callers -------------------------------------------------------------------------------
    def calls_named(self, name: str) -> List[cst.Call]:
        """Every call in the file whose callee's last name is `name`."""
        if self._calls_by_name is None:
            self._calls_by_name = {}
            for call in self.index.all_calls:
                callee = last_name(call.func)
                if callee is not None:
                    self._calls_by_name.setdefault(callee, []).append(call)
        return self._calls_by_name.get(name, [])

    def mode_before(self, call: cst.CSTNode) -> Optional[Event]:
        """The last `.eval()`/`.train()` (or unknown helper that may switch modes) before `call` in its function."""
        enclosing = self.semantics.enclosing(call, (cst.FunctionDef,))
        function: Function = enclosing if isinstance(enclosing, cst.FunctionDef) else self.module
        order = self.semantics.order
        last = None
        unit = Unit(function, None, self.events(function))
        for event in unit.events:
            if order[unit.anchor(event)] >= order[call]:
                break
            if event.kind in MODE_KINDS or event.kind == MAYBE_MODE:
                last = event
        return last


def loop_model(semantics: FileSemantics) -> LoopModel:
    """The (cached) loop model of a file. Cached on the file (a weak-keyed table would never free it: the model
    refers to its file)."""
    if semantics.loop_model is None:
        semantics.loop_model = LoopModel(semantics)
    return semantics.loop_model
