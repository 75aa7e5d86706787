"""A small model of training and evaluation loops, shared by the training-loop rules (NN403–NN410).

One walk per function (and the module body) lists, in execution order, the calls that matter to a
training loop: `backward`, optimizer/scheduler/scaler steps, gradient clearing and clipping, mode
switches (`.eval()`/`.train()`), model calls, and calls to other functions of the same file, whose
own lists are spliced in at the call. Each event carries the path of constructs around it (loops,
`if` branches, calls, `no_grad` blocks), so a rule can ask, for any loop, what one iteration does,
what is conditional in it and what happens in a nested loop. Unknown things stay unknown: receivers
are recognised by construction first and by their name only when the construction is not visible.
"""

from __future__ import annotations

import functools
import re
import weakref
from dataclasses import dataclass
from pathlib import PurePath
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from nnlint.static.semantics import FileSemantics, walk

Function = Union[cst.FunctionDef, cst.Module]
Loop = Union[cst.For, cst.While]

# Event kinds.
BACKWARD = "backward"
STEP = "optimizer step"
ZERO_GRAD = "zero_grad"
MAYBE_CLEAR = "call that may clear gradients"
SCHEDULER_STEP = "scheduler step"
CLIP = "clip"
UNSCALE = "unscale"
EVAL = "eval"
TRAIN = "train"
MODEL_CALL = "model call"
AUTOGRAD_GRAD = "autograd.grad"
CALL = "call"
MAYBE_MODE = "call that may switch modes"

MODE_KINDS = (EVAL, TRAIN)
CLEAR_KINDS = (ZERO_GRAD, MAYBE_CLEAR)

_MAX_EVENTS = 4000

CLIP_FUNCTIONS = frozenset(
    {
        "torch.nn.utils.clip_grad_norm_",
        "torch.nn.utils.clip_grad_value_",
        "torch.nn.utils.clip_grad_norm",
        "torch.nn.utils.clip_grad_value",
        "torch.nn.utils.clip_grad.clip_grad_norm_",
        "torch.nn.utils.clip_grad.clip_grad_value_",
        "torch.nn.utils.clip_grad.clip_grad_norm",
    }
)
GRAD_SCALERS = frozenset(
    {
        "torch.cuda.amp.GradScaler",
        "torch.cuda.amp.grad_scaler.GradScaler",
        "torch.amp.GradScaler",
        "torch.amp.grad_scaler.GradScaler",
        "torch.cpu.amp.GradScaler",
        "torch.GradScaler",
    }
)
NO_GRAD_CONTEXTS = frozenset(
    {
        "torch.no_grad",
        "torch.inference_mode",
        "torch.autograd.no_grad",
        "torch.autograd.inference_mode",
        "torch.autograd.grad_mode.no_grad",
        "torch.autograd.grad_mode.inference_mode",
    }
)
SET_GRAD_ENABLED = frozenset(
    {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
)
ENABLE_GRAD = frozenset({"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"})

_OPTIMIZER_NAME = re.compile(
    r"^(?:opt|optim|optimizer|optimiser)(?:_\w+|[A-Z]\w*|\d+)?$|^\w+_(?:opt|optim|optimizer|optimiser)$|^[a-z]\w*(?:Optimizer|Optimiser)$"
)
_MODEL_NAME = re.compile(r"(?:^|_)models?(?:$|_)|^(?:net|network|classifier)(?:$|_)|^net[A-Z]\w*$|^[a-z]+Model$")
_EVAL_NAME = re.compile(
    r"^(?:run_|do_|_)?(?:val|valid|validate|validation|eval|evaluate|evaluation|test)"
    r"(?:_one)?(?:_(?:epoch|model|loop|net|network|on_\w+))?$"
    r"|^(?:evaluate|validate|evaluation|validation)_\w+$"
    r"|^\w+_(?:evaluate|validate|validation|evaluation|eval)$"
)
_VAL_LOADER = re.compile(
    r"^(?:val|valid|validation|eval|evaluation|test|dev)_?(?:data|set)?_?(?:loader|dataloader|dl|iter|batches)s?$", re.I
)
_ACCUMULATION_TEST = re.compile(r"%|accum|sync_gradients|update_freq|should_step|do_step|is_last", re.I)
_CLEARING_NAME = re.compile(r"zero_grad|clear_grad|reset_grad|zero_gradients|set_grads_to_none", re.I)
_MODE_NAME = re.compile(r"(?:^|_)(?:train|training|eval|evaluation|mode)(?:_|$)")
_WRAPPER_BACKWARD = re.compile(r"accelerator|fabric|engine|booster|deepspeed|^self$|^trainer$", re.I)
_FOREIGN_FRAMEWORKS = frozenset({"tensorflow", "keras", "jax", "flax", "paddle", "mindspore", "mxnet"})
_TORCH_FRAMEWORKS = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "lightning",
        "pytorch_lightning",
        "accelerate",
        "transformers",
        "timm",
        "deepspeed",
    }
)


@dataclass(frozen=True, eq=False)
class Frame:
    """A construct around an event: a loop, an `if` branch, a call, or a (no_)grad block."""

    kind: str  # loop | cond | jump | call | nograd | grad
    node: cst.CSTNode
    owner: Optional[cst.CSTNode] = None  # cond: the If/Try the branch belongs to; call: the callee


@dataclass(frozen=True, eq=False)
class Event:
    """One relevant call in execution order, with the constructs around it."""

    kind: str
    node: cst.CSTNode
    receiver: str
    path: Tuple[Frame, ...]
    target: str = ""  # the optimizer of a step/unscale_, the tensor of a backward
    has_args: bool = False
    amp: bool = False
    callee: Optional[cst.FunctionDef] = None


class Unit:
    """One iteration of a loop (or one run of a function): its events and where each sits relative to it."""

    def __init__(self, function: Function, loop: Optional[Loop], events: Sequence[Event]) -> None:
        self.function = function
        self.loop = loop
        self.events = [event for event in events if loop is None or any(f.node is loop for f in event.path)]

    def tail(self, event: Event) -> Tuple[Frame, ...]:
        """The frames of `event` inside this unit."""
        if self.loop is None:
            return event.path
        for index, frame in enumerate(event.path):
            if frame.node is self.loop:
                return event.path[index + 1 :]
        return event.path

    def conditional(self, event: Event) -> bool:
        """Whether the event runs only on some iterations (inside an `if`, an `except`, or after a `continue`)."""
        return any(frame.kind in ("cond", "jump") for frame in self.tail(event))

    def nested(self, event: Event) -> bool:
        """Whether the event sits in a loop nested in this unit."""
        return any(frame.kind == "loop" for frame in self.tail(event))

    def nested_loops(self) -> List[cst.CSTNode]:
        """Loops nested in this unit, outermost first, each once."""
        seen: List[cst.CSTNode] = []
        for event in self.events:
            for frame in self.tail(event):
                if frame.kind == "loop" and not any(frame.node is s for s in seen):
                    seen.append(frame.node)
        return seen

    def anchor(self, event: Event) -> cst.CSTNode:
        """Where to report an event: the call into a helper inside this unit, or the event itself."""
        for frame in self.tail(event):
            if frame.kind == "call":
                return frame.node
        return event.node

    def contains(self, node: cst.CSTNode, semantics: FileSemantics) -> bool:
        """Whether `node` is written inside this unit's loop."""
        current = semantics.parents.get(node)
        while current is not None:
            if current is self.loop:
                return True
            current = semantics.parents.get(current)
        return False

    def inside_one_call(self, *events: Event) -> bool:
        """Whether all the events run inside the same helper call: that helper's own unit reports them."""
        calls = []
        for event in events:
            frame = next((f for f in self.tail(event) if f.kind == "call"), None)
            if frame is None:
                return False
            calls.append(frame.node)
        return all(call is calls[0] for call in calls)

    def of(self, *kinds: str) -> List[Event]:
        """The events of the given kinds."""
        return [event for event in self.events if event.kind in kinds]


def exclusive(first: Event, second: Event) -> bool:
    """Whether two events sit in different branches of the same `if`/`try`: they never run together."""
    branches = {id(frame.owner): frame.node for frame in first.path if frame.kind == "cond" and frame.owner is not None}
    for frame in second.path:
        if frame.kind == "cond" and frame.owner is not None and id(frame.owner) in branches:
            if branches[id(frame.owner)] is not frame.node:
                return True
    return False


def in_no_grad(event: Event) -> bool:
    """Whether autograd is off where the event runs (a `no_grad`/`inference_mode` block or decorator)."""
    for frame in reversed(event.path):
        if frame.kind == "nograd":
            return True
        if frame.kind == "grad":
            return False
    return False


def accumulation_condition(frames: Iterable[Frame]) -> Optional[cst.BaseExpression]:
    """The test of an enclosing `if` that looks like a gradient-accumulation boundary (`% accum == 0`)."""
    for frame in frames:
        test = None
        if frame.kind == "cond" and isinstance(frame.owner, cst.If):
            test = frame.owner.test
        elif frame.kind == "jump" and isinstance(frame.node, cst.If):
            test = frame.node.test
        if test is not None and _ACCUMULATION_TEST.search(_code(test)):
            return test
    return None


def is_eval_name(name: str) -> bool:
    """Whether a function name says it evaluates a model (`validate`, `evaluate`, `test`, `val_epoch`, ...)."""
    if name.endswith("_step") or name.startswith("on_"):
        return False
    return bool(_EVAL_NAME.match(name))


def is_val_loader(expr: cst.BaseExpression) -> bool:
    """Whether a loop's iterable names a validation/test loader (`val_loader`, `enumerate(test_loader)`)."""
    finder = _NameFinder()
    walk(expr, finder)
    return any(_VAL_LOADER.match(name) for name in finder.names)


def is_test_file(path: str) -> bool:
    """pytest files, where `test_*` functions are tests, not evaluation routines."""
    name = PurePath(path).name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def describe(semantics: FileSemantics, node: cst.CSTNode, limit: int = 60) -> str:
    """Short source text of a call for messages."""
    text = " ".join(semantics.module.code_for_node(node).split())
    if len(text) <= limit:
        return text
    if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
        return semantics.module.code_for_node(node.func) + "(...)"
    return text[: limit - 3] + "..."


def place(semantics: FileSemantics, unit: "Unit", event: Event) -> str:
    """Where an event runs, for messages: `line 12`, or `line 40, in `train_epoch(...)` called at line 12`."""
    anchor = unit.anchor(event)
    if anchor is event.node:
        return f"line {semantics.line(event.node)}"
    return (
        f"line {semantics.line(event.node)}, in `{describe(semantics, anchor)}` called at line {semantics.line(anchor)}"
    )


def grad_disabled_at(semantics: FileSemantics, node: cst.CSTNode) -> bool:
    """Whether `node` sits in a `with torch.no_grad()`-like block or a function decorated with one."""
    current = semantics.parents.get(node)
    while current is not None:
        if isinstance(current, cst.With):
            kinds = [_grad_context(semantics, item.item) for item in current.items]
            if "nograd" in kinds:
                return True
            if "grad" in kinds:
                return False
        if isinstance(current, cst.FunctionDef):
            if any(_grad_context(semantics, d.decorator) == "nograd" for d in current.decorators):
                return True
        current = semantics.parents.get(current)
    return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def last_name(expr: cst.BaseExpression) -> Optional[str]:
    """`optimizer` for `optimizer`, `self.optimizer`, `optimizers[0]`; else None."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def _grad_context(semantics: FileSemantics, expr: cst.BaseExpression) -> Optional[str]:
    """'nograd' for no_grad/inference_mode/set_grad_enabled(<not True>), 'grad' for enable_grad, else None."""
    call = expr if isinstance(expr, cst.Call) else None
    func = call.func if call is not None else expr
    if not dotted(func):
        return None
    qualified = semantics.qualified_name(func)
    if qualified in NO_GRAD_CONTEXTS:
        if call is not None and call.args and _is_false(call.args[0].value):
            return None  # inference_mode(False)
        return "nograd"
    if qualified in ENABLE_GRAD:
        return "grad"
    if qualified in SET_GRAD_ENABLED and call is not None and call.args:
        value = call.args[0].value
        if isinstance(value, cst.Name) and value.value == "True":
            return "grad"
        return "nograd"  # False, or a condition such as `phase == "train"`
    return None


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def _import_roots(node: cst.CSTNode) -> List[str]:
    if isinstance(node, cst.Import):
        return [_code(alias.name).split(".")[0] for alias in node.names]
    if isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
        return [_code(node.module).split(".")[0]]
    return []


class _NameFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: List[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)


_IMPORTS = frozenset({cst.Import, cst.ImportFrom})
_JUMPS = frozenset({cst.Continue, cst.Break, cst.Return, cst.Raise})


class _Index:
    """What the loop model needs of a file, from one pass over the nodes the dataflow already knows.

    A libcst traversal of a large file takes seconds; the parent map holds every node already.
    """

    def __init__(self, semantics: FileSemantics) -> None:
        parents = semantics.parents
        order = semantics.order
        self.calls: Dict[int, List[cst.Call]] = {}  # statement (or header expression) -> its calls in evaluation order
        self.all_calls: List[cst.Call] = []
        self.defs: Dict[int, Dict[str, List[cst.FunctionDef]]] = {}
        self.owner: Dict[int, cst.CSTNode] = {}
        self.functions: List[cst.FunctionDef] = []
        self.jumps: Set[int] = set()
        roots: Set[str] = set()
        for node in parents:
            kind = type(node)  # exact types (libcst's node classes have no subclasses): isinstance on them is slow
            if kind is cst.Call:
                self.all_calls.append(node)
                anchor = _anchor(node, parents)
                if anchor is not None:
                    self.calls.setdefault(id(anchor), []).append(node)
            elif kind is cst.FunctionDef:
                scope = _scope(node, parents)
                self.defs.setdefault(id(scope), {}).setdefault(node.name.value, []).append(node)
                self.owner[id(node)] = scope
                self.functions.append(node)
            elif kind in _IMPORTS:
                if isinstance(_scope(node, parents), cst.Module):
                    roots.update(_import_roots(node))
            elif kind in _JUMPS:
                self._mark_jump(node, parents)
        evaluation = functools.cmp_to_key(lambda a, b: _evaluated_before(a, b, parents, order))
        for found in self.calls.values():
            found.sort(key=evaluation)
        self.functions.sort(key=lambda f: order[f])
        self.relevant = bool(roots & _TORCH_FRAMEWORKS) and not (roots & _FOREIGN_FRAMEWORKS)

    def _mark_jump(self, node: cst.CSTNode, parents) -> None:
        loop_jump = isinstance(node, (cst.Continue, cst.Break))
        current = parents.get(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)):
            if loop_jump and isinstance(current, (cst.For, cst.While)):
                return
            if isinstance(current, (cst.If, cst.Try, cst.TryStar, cst.With, cst.Match)):
                self.jumps.add(id(current))
            current = parents.get(current)


def _evaluated_before(first: cst.Call, second: cst.Call, parents, order) -> int:
    """Order two calls of one statement as Python evaluates them: arguments before the call, then left to right."""
    if _inside(first, second, parents):
        return -1
    if _inside(second, first, parents):
        return 1
    return -1 if order[first] < order[second] else 1


def _inside(node: cst.CSTNode, outer: cst.CSTNode, parents) -> bool:
    current = parents.get(node)
    while current is not None and not isinstance(current, cst.BaseSmallStatement):
        if current is outer:
            return True
        current = parents.get(current)
    return False


_HEADERS = (cst.If, cst.While, cst.For, cst.WithItem, cst.Match)


def _anchor(call: cst.Call, parents) -> Optional[cst.CSTNode]:
    """The small statement, or the header expression of a compound statement, that evaluates `call`."""
    child: cst.CSTNode = call
    current = parents.get(call)
    while current is not None:
        if isinstance(current, (cst.Lambda, cst.FunctionDef, cst.ClassDef, cst.Decorator)):
            return None
        if isinstance(current, cst.BaseSmallStatement):
            return current
        if isinstance(current, _HEADERS):
            return child
        child, current = current, parents.get(current)
    return None


def _scope(node: cst.CSTNode, parents) -> cst.CSTNode:
    """The function, class or module that directly contains a definition."""
    current = parents.get(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Module)):
        current = parents.get(current)
    return current


class LoopModel:
    """The training-loop model of one file, built lazily and shared by all rules that check it."""

    def __init__(self, semantics: FileSemantics) -> None:
        self.semantics = semantics
        self.module = semantics.module
        index = _Index(semantics)
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
        self._calls_by_name: Optional[Dict[str, List[cst.Call]]] = None

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
                context = _grad_context(self.semantics, decorator.decorator)
                if context is not None:
                    path = path + (Frame(context, decorator),)
        cut_before = len(self._incomplete)
        walker = _Walker(self, out, loops)
        if isinstance(function, cst.Module):
            walker.statements(function.body, path)
        else:
            walker.block(function.body, path)
        self._computing.pop()
        self._loops[key] = loops
        if len(out) > _MAX_EVENTS:
            del out[_MAX_EVENTS:]
            self._incomplete.add(key)
        if len(self._incomplete) == cut_before or key in self._incomplete:
            self._events[key] = out  # results cut by recursion are recomputed when asked directly
        return out

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

    def callee(self, call: cst.Call) -> Optional[cst.FunctionDef]:
        """The same-file function a call runs: a nested or module-level def by name, or `self.method`."""
        func = call.func
        if isinstance(func, cst.Name):
            scope: Optional[cst.CSTNode] = self.semantics.enclosing(call, (cst.FunctionDef,))
            while scope is not None:
                found = self._unique(scope, func.value)
                if found is not None:
                    return found
                scope = self._owner.get(id(scope))
                if isinstance(scope, cst.ClassDef):
                    scope = self._owner_of_class(scope)
            return self._unique(self.module, func.value)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            klass = self.semantics.class_of(call)
            if klass is not None:
                return self._unique(klass, func.attr.value)
        return None

    def _owner_of_class(self, klass: cst.ClassDef) -> Optional[cst.CSTNode]:
        parent = self.semantics.enclosing(klass, (cst.FunctionDef,))
        return parent

    def _unique(self, scope: cst.CSTNode, name: str) -> Optional[cst.FunctionDef]:
        found = self._defs.get(id(scope), {}).get(name, [])
        return found[0] if len(found) == 1 else None

    # -- roles of receivers --------------------------------------------------------------------
    def role(self, expr: cst.BaseExpression) -> Optional[str]:
        """'optimizer', 'scheduler' or 'scaler' for a receiver, by its construction, else by its name."""
        key = id(expr)
        if key not in self._roles:
            self._roles[key] = self._role(expr)
        return self._roles[key]

    def _role(self, expr: cst.BaseExpression) -> Optional[str]:
        semantics = self.semantics
        if isinstance(expr, (cst.Name, cst.Attribute)):
            construct = semantics.resolve(expr)
            if isinstance(construct, cst.Call) and dotted(construct.func):
                qualified = semantics.qualified_name(construct.func) or ""
                if qualified.startswith(("torch.optim.lr_scheduler.", "torch.optim.swa_utils.SWALR")):
                    return "scheduler"
                if qualified in GRAD_SCALERS:
                    return "scaler"
                if qualified.startswith("torch.optim.") and not qualified.startswith("torch.optim.swa_utils"):
                    return "optimizer"
                if qualified.startswith("torch."):
                    return None
        name = last_name(expr)
        if name is None:
            return None
        lower = name.lower()
        if "sched" in lower and "noise" not in lower:
            return "scheduler"
        if "scaler" in lower:
            return "scaler"
        if _OPTIMIZER_NAME.match(name):
            return "optimizer"
        return None

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
            return _code(params.func.value)
        return None

    # -- classification ------------------------------------------------------------------------
    def is_model_callee(self, func: cst.BaseExpression) -> bool:
        """Whether a callee looks like the model: named like one, or an instance of a model class of the checked files."""
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return False
        name = last_name(func)
        if name is not None and _MODEL_NAME.search(name) and not name.lower().endswith(("_fn", "_func", "_loss")):
            return True
        module = self.semantics.module_class(func)
        if module is None:
            return False
        class_name = module[0]
        if class_name.startswith("torchvision.models."):
            return True
        return (
            not class_name.startswith("torch")
            and "." not in class_name
            and self.semantics.project.has_class(class_name)
        )

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
        function = self.semantics.enclosing(call, (cst.FunctionDef,)) or self.module
        order = self.semantics.order
        last = None
        unit = Unit(function, None, self.events(function))
        for event in unit.events:
            if order[unit.anchor(event)] >= order[call]:
                break
            if event.kind in MODE_KINDS or event.kind == MAYBE_MODE:
                last = event
        return last


class _Walker:
    """Walks one function body in execution order and appends its events."""

    def __init__(self, model: LoopModel, out: List[Event], loops: List[Loop]) -> None:
        self.model = model
        self.semantics = model.semantics
        self.out = out
        self.loops = loops

    def block(self, body: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        if isinstance(body, cst.IndentedBlock):
            self.statements(body.body, path)
        elif isinstance(body, cst.SimpleStatementSuite):
            self.statements(body.body, path)

    def statements(self, statements: Sequence[cst.CSTNode], path: Tuple[Frame, ...]) -> None:
        for statement in statements:
            if len(self.out) > _MAX_EVENTS:
                return
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    path = self.small(small, path)
            elif isinstance(statement, cst.BaseSmallStatement):
                path = self.small(statement, path)
            else:
                self.compound(statement, path)
                if id(statement) in self.model.index.jumps:
                    path = path + (Frame("jump", statement),)

    def small(self, small: cst.BaseSmallStatement, path: Tuple[Frame, ...]) -> Tuple[Frame, ...]:
        self.expression(small, path)
        if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for target in targets:
                if isinstance(target, cst.Attribute) and target.attr.value == "grad":
                    self.add(Event(ZERO_GRAD, small, _code(target.value), path))
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            if dotted(call.func) and self.semantics.qualified_name(call.func) in SET_GRAD_ENABLED:
                context = _grad_context(self.semantics, call)
                if context is not None:
                    return path + (Frame(context, small),)
        if isinstance(small, (cst.Continue, cst.Break, cst.Return, cst.Raise)):
            return path + (Frame("jump", small),)
        return path

    def compound(self, statement: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        if isinstance(statement, cst.If):
            self.if_(statement, path)
        elif isinstance(statement, cst.For):
            self.expression(statement.iter, path)
            self.loops.append(statement)
            inner = path + (Frame("loop", statement),)
            self.block(statement.body, inner)
            if statement.orelse is not None:
                self.block(statement.orelse.body, path + (Frame("cond", statement.orelse, statement),))
        elif isinstance(statement, cst.While):
            self.loops.append(statement)
            inner = path + (Frame("loop", statement),)
            self.expression(statement.test, inner)
            self.block(statement.body, inner)
            if statement.orelse is not None:
                self.block(statement.orelse.body, path + (Frame("cond", statement.orelse, statement),))
        elif isinstance(statement, cst.With):
            inner = path
            for item in statement.items:
                self.expression(item.item, path)
                context = _grad_context(self.semantics, item.item)
                if context is not None:
                    inner = inner + (Frame(context, item),)
            self.block(statement.body, inner)
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            self.block(statement.body, path)
            for handler in statement.handlers:
                self.block(handler.body, path + (Frame("cond", handler, statement),))
            if statement.orelse is not None:
                self.block(statement.orelse.body, path)
            if statement.finalbody is not None:
                self.block(statement.finalbody.body, path)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return
        elif isinstance(statement, cst.Match):
            self.expression(statement.subject, path)
            for case in statement.cases:
                self.block(case.body, path + (Frame("cond", case, statement),))
        else:
            body = getattr(statement, "body", None)
            if isinstance(body, cst.CSTNode):
                self.block(body, path + (Frame("cond", statement, statement),))

    def if_(self, node: cst.If, path: Tuple[Frame, ...]) -> None:
        self.expression(node.test, path)
        self.block(node.body, path + (Frame("cond", node.body, node),))
        orelse = node.orelse
        if isinstance(orelse, cst.Else):
            self.block(orelse.body, path + (Frame("cond", orelse, node),))
        elif isinstance(orelse, cst.If):
            self.if_(orelse, path + (Frame("cond", orelse, node),))

    def expression(self, node: cst.CSTNode, path: Tuple[Frame, ...]) -> None:
        for call in self.model.index.calls.get(id(node), ()):
            self.call(call, path)

    def add(self, event: Event) -> None:
        self.out.append(event)

    def call(self, call: cst.Call, path: Tuple[Frame, ...]) -> None:
        semantics = self.semantics
        func = call.func
        qualified = semantics.qualified_name(func) if dotted(func) else None
        args = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if qualified in CLIP_FUNCTIONS:
            self.add(Event(CLIP, call, "", path, has_args=bool(call.args)))
            return
        if qualified in ("torch.autograd.backward",):
            self.add(Event(BACKWARD, call, "", path, target=_code(args[0].value) if args else ""))
            return
        if qualified in ("torch.autograd.grad",):
            self.add(Event(AUTOGRAD_GRAD, call, "", path))
            return
        if qualified is not None and qualified.startswith("torch"):
            return
        if isinstance(func, cst.Attribute):
            if self.method(call, func, args, path):
                return
        callee = self.model.callee(call)
        if callee is not None:
            self.splice(call, callee, path)
            return
        if self.model.is_model_callee(func):
            self.add(Event(MODEL_CALL, call, _code(func), path))
            return
        name = last_name(func)
        if name is not None and _CLEARING_NAME.search(name):
            self.add(Event(MAYBE_CLEAR, call, _code(func), path))
        elif name is not None and name[:1].islower() and _MODE_NAME.search(name):
            self.add(
                Event(MAYBE_MODE, call, name, path)
            )  # a helper we cannot see into, such as `set_train_mode(model)`

    def method(self, call: cst.Call, func: cst.Attribute, args: List[cst.Arg], path: Tuple[Frame, ...]) -> bool:
        method = func.attr.value
        receiver = func.value
        text = _code(receiver)
        if method in ("backward", "manual_backward"):
            target = text
            if (
                isinstance(receiver, cst.Call)
                and isinstance(receiver.func, cst.Attribute)
                and receiver.func.attr.value == "scale"
            ):
                inner = [a for a in receiver.args if a.keyword is None]
                target = _code(inner[0].value) if inner else text
                self.add(Event(BACKWARD, call, text, path, target=target, amp=True))
                return True
            if method == "manual_backward" or (_WRAPPER_BACKWARD.search(last_name(receiver) or "") and args):
                target = _code(args[0].value) if args else text
            self.add(Event(BACKWARD, call, text, path, target=target))
            return True
        if method == "zero_grad":
            self.add(Event(ZERO_GRAD, call, text, path))
            return True
        if method in ("zero_", "fill_", "mul_", "copy_", "detach_") and _is_grad(receiver):
            self.add(Event(ZERO_GRAD, call, text, path))
            return True
        if method == "step":
            role = self.model.role(receiver)
            if role == "scaler":
                target = _code(args[0].value) if args else ""
                self.add(Event(STEP, call, text, path, target=target, has_args=False, amp=True))
                return True
            if role == "scheduler":
                self.add(Event(SCHEDULER_STEP, call, text, path, has_args=bool(call.args)))
                return True
            if role == "optimizer":
                closure = call.args[0].value if call.args else None
                unknown = False
                if closure is not None:
                    callee = self._named_callee(call, closure) if isinstance(closure, cst.Name) else None
                    if callee is not None:
                        self.splice(call, callee, path)
                    else:
                        unknown = True
                if any(arg.keyword is not None and "zero" in arg.keyword.value for arg in call.args):
                    unknown = True
                self.add(Event(STEP, call, text, path, target=text, has_args=unknown))
                return True
            return False
        if method == "unscale_" and self.model.role(receiver) == "scaler":
            self.add(Event(UNSCALE, call, text, path, target=_code(args[0].value) if args else ""))
            return True
        if method in ("eval", "train") and self.model.role(receiver) == "optimizer":
            return True  # schedule-free optimizers have train()/eval() too; they do not switch the model
        if method == "eval" and not call.args:
            self.add(Event(EVAL, call, text, path))
            return True
        if method == "train":
            mode = call.args[0].value if call.args else None
            self.add(Event(EVAL if mode is not None and _is_false(mode) else TRAIN, call, text, path))
            return True
        return False

    def _named_callee(self, at: cst.Call, name: cst.Name) -> Optional[cst.FunctionDef]:
        """The function a name passed as a closure refers to, resolved like a call at `at`."""
        scope: Optional[cst.CSTNode] = self.semantics.enclosing(at, (cst.FunctionDef,))
        while scope is not None:
            found = self.model._unique(scope, name.value)  # noqa: SLF001 - same module
            if found is not None:
                return found
            scope = self.model._owner.get(id(scope))  # noqa: SLF001
            if isinstance(scope, cst.ClassDef):
                scope = self.semantics.enclosing(scope, (cst.FunctionDef,))
        return self.model._unique(self.model.module, name.value)  # noqa: SLF001

    def splice(self, call: cst.Call, callee: cst.FunctionDef, path: Tuple[Frame, ...]) -> None:
        frame = Frame("call", call, callee)
        inner = path + (frame,)
        self.add(Event(CALL, call, _code(call.func), path, callee=callee))
        if id(callee) in self.model._computing:  # noqa: SLF001 - recursion: leave it cut
            self.model._incomplete.add(self.model._computing[-1])  # noqa: SLF001
            return
        for event in self.model.events(callee):
            self.add(
                Event(
                    event.kind,
                    event.node,
                    event.receiver,
                    inner + event.path,
                    event.target,
                    event.has_args,
                    event.amp,
                    event.callee,
                )
            )
            if len(self.out) > _MAX_EVENTS:
                return


def dotted(expr: cst.BaseExpression) -> bool:
    """`a`, `a.b.c`: a name whose qualified name means something."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name)


def _is_grad(expr: cst.BaseExpression) -> bool:
    """`p.grad` or `p.grad.data`."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
        expr = expr.value
    return isinstance(expr, cst.Attribute) and expr.attr.value == "grad"


_MODELS: "weakref.WeakKeyDictionary[FileSemantics, LoopModel]" = weakref.WeakKeyDictionary()


def loop_model(semantics: FileSemantics) -> LoopModel:
    """The (cached) loop model of a file."""
    model = _MODELS.get(semantics)
    if model is None:
        model = LoopModel(semantics)
        _MODELS[semantics] = model
    return model


# -- evaluation routines ---------------------------------------------------------------------------
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
        if "Lightning" in _code(base.value):
            return True
    return any(isinstance(s, cst.FunctionDef) and s.name.value == "training_step" for s in klass.body.body)


def eval_sites(model: LoopModel) -> List[EvalSite]:
    """Every evaluation routine and validation loop of the file that calls the model and does no training."""
    semantics = model.semantics
    sites: List[EvalSite] = []
    test_file = is_test_file(semantics.path)
    for function in model.functions():
        if not model.complete(function):
            continue
        events = model.events(function)
        named = (
            isinstance(function, cst.FunctionDef)
            and is_eval_name(function.name.value)
            and not (test_file and function.name.value.startswith("test"))
            and not is_lightning_hook(semantics, function)
        )
        if named:
            unit = Unit(function, None, events)
            _add_site(sites, function, None, unit, semantics=semantics)
            continue
        trains = any(e.kind in (BACKWARD, STEP) for e in events)
        for loop in model.loops(function):
            if isinstance(loop, cst.For) and is_val_loader(loop.iter):
                _add_site(sites, function, loop, Unit(function, loop, events), trains)
    return sites


def _add_site(
    sites: List[EvalSite],
    function: Function,
    loop: Optional[Loop],
    unit: Unit,
    trains: bool = False,
    semantics: Optional[FileSemantics] = None,
) -> None:
    if unit.of(BACKWARD, STEP, AUTOGRAD_GRAD):
        return  # it trains or needs gradients (test-time adaptation, adversarial evaluation)
    calls = tuple(e for e in unit.of(MODEL_CALL) if not any(f.kind == "call" for f in unit.tail(e)))
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
        elif is_method and isinstance(func, cst.Attribute) and _code(func.value) != "self":
            sites.append(call)
    return sites
