"""Checking one model target (inside a worker): import, build on meta, trace, find a working input, run graph rules."""

from __future__ import annotations

import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Type

import torch
from torch import fx, nn
from torch.overrides import TorchFunctionMode

from nnlint import locate, registry
from nnlint.graph import flow
from nnlint.graph import inputs as input_plans
from nnlint.graph.context import GraphContext, GraphRun
from nnlint.graph.input_dtypes import with_first_layer_dtypes
from nnlint.graph.interpreter import (
    NO_ANSWER,
    Propagation,
    check_meta_gaps,
    describe,
    fast_recurrent_layers,
    meta_gap_answer,
    run_shapes,
)
from nnlint.graph.loading import LoadError, build, import_object, is_user_file
from nnlint.graph.result import GraphResult
from nnlint.graph.targets import GraphTarget
from nnlint.rule import GraphRule, OptionValues, Rule
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn010_model_import_failed import ModelImportFailed
from nnlint.rules.nn011_model_construction_failed import ModelConstructionFailed
from nnlint.rules.nn012_model_not_runnable import ModelNotRunnable
from nnlint.rules.nn014_model_input_unknown import ModelInputUnknown
from nnlint.rules.nn301_shape_mismatch import ShapeMismatch
from nnlint.types import Location, Pass, Severity

BATCHES = (2, 3)  # two batch sizes: the batch dimension is the one that follows them


class _Clock:
    """Seconds spent in each phase of one check."""

    def __init__(self, into: Dict[str, float]) -> None:
        self.into, self.last = into, time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.into[phase] = self.into.get(phase, 0.0) + now - self.last
        self.last = now


def warm_up() -> None:
    """Run a few common ops on meta once, so the lazy imports behind meta kernels happen before any target."""
    if "numpy" not in sys.modules and importlib.util.find_spec("numpy") is None:
        # torch's meta kernels try `import numpy` on every elementwise op (torch.sym_max); without numpy
        # each try searches sys.path again, which costs seconds on a large model. Fail it fast instead.
        sys.modules["numpy"] = None  # type: ignore[assignment]
    with torch.device("meta"), torch.no_grad():
        x = torch.empty(2, 3, 8, 8)
        y = torch.nn.functional.conv2d(x, torch.empty(4, 3, 3, 3))
        y = torch.relu(torch.nn.functional.batch_norm(y, None, None, training=True))
        torch.nn.functional.linear(torch.flatten(y, 1), torch.empty(5, 144)).softmax(1)


def check_target(
    target: GraphTarget,
    root: Path,
    rules: Sequence[Type[Rule]],
    want_summary: bool = False,
    options: Optional[OptionValues] = None,
) -> GraphResult:
    """Run the graph pass on one target; every failure in user code becomes a finding. `options`: rule options."""
    cpu = time.process_time()
    result = _check(target, root, rules, want_summary, options or {})
    result.timings["cpu"] = time.process_time() - cpu  # the check's own work, whatever else the machine runs
    return result


def _check(
    target: GraphTarget, root: Path, rules: Sequence[Type[Rule]], want_summary: bool, options: OptionValues
) -> GraphResult:
    started = time.perf_counter()
    result = GraphResult()
    clock = _Clock(result.timings)
    fallback = Location(*target.where(root))
    try:
        obj = import_object(target.target, root)
        clock.lap("import")
        fallback = _object_location(obj) or fallback
        model, example = build(obj, target.kwargs)
        clock.lap("build")
    except LoadError as error:
        rule = ModelImportFailed if error.stage == "import" else ModelConstructionFailed
        where = Location(*error.frame) if error.frame else fallback
        result.findings.append(rule.finding(where, rule.explain(target.target, str(error)), Pass.GRAPH))
        return _done(result, started)

    if example is None and target.inputs is not None:
        configured: Optional[input_plans.InputPlan] = input_plans.from_specs(target.inputs)
        given = input_plans.given_arguments(model, configured, len(target.inputs))
    else:
        # inferred: forward's first argument is the input even when it has a default (`input_ids=None`)
        configured, given = None, input_plans.given_arguments(model, None, 1)
    gm, trace_error = _trace(model, given if example is None else None)
    clock.lap("trace")
    subject = _Subject(model, gm, trace_error)
    if example is not None:
        plans: List[input_plans.InputPlan] = [
            input_plans.InputPlan(lambda b, s: example, (0,), lambda s: "the factory's example inputs")
        ]
    elif configured is not None:
        plans = [configured]
        completed = with_first_layer_dtypes(model, target.inputs or ())
        if completed != tuple(target.inputs or ()):  # `--input-shape 2,8` on an Embedding-first model: int64 ids,
            plans.append(input_plans.from_specs(completed))  # tried only when the float input fails
    else:
        plans = input_plans.infer_alternatives(model, gm.graph if gm is not None else None)
    inferred = example is None and target.inputs is None
    with fast_recurrent_layers(model):
        plan, working, first, verdict = _choose_input(subject, plans, inferred, fallback, target)
    gm = subject.gm
    result.method = "fx" if gm is not None else "hooks"
    clock.lap("inputs")
    if verdict is not None:
        result.findings.append(verdict)
        return _done(result, started)
    assert plan is not None and working is not None
    result.input_description = plan.describe(working)
    with fast_recurrent_layers(model):
        runs, used, called = _two_runs(model, gm, plan, working, first)
    clock.lap("runs")
    ctx = GraphContext(model, gm, runs, used, called, fallback, inferred, options)
    for graph_rule in registry.hooked(rules, GraphRule):
        try:
            graph_rule(ctx).check_graph(ctx)
        except Exception as error:  # a bug in one rule must not hide the others
            ctx.report(InternalError, fallback, InternalError.rule_failed(graph_rule, Pass.GRAPH, error, target.target))
    result.findings.extend(ctx.findings)
    result.output_kind = ctx.output_kind()  # for the static loss-pairing rules (NN201-NN206)
    clock.lap("rules")
    if want_summary:
        with fast_recurrent_layers(model):
            result.summary = summary_rows(model, plan, working)
    return _done(result, started)


def _done(result: GraphResult, started: float) -> GraphResult:
    result.seconds = time.perf_counter() - started
    return result


def _object_location(obj: Any) -> Optional[Location]:
    cls = obj if isinstance(obj, type) else None
    if cls is not None:
        return locate.class_source(cls)
    code = getattr(obj, "__code__", None)
    return Location(code.co_filename, code.co_firstlineno, 1) if code is not None else None


class _Tracer(fx.Tracer):
    """Records the Python stack of the user's code on each node (fx's own recording symbolizes native
    frames too, which costs seconds on the first trace). Frames are read directly, without their source
    text: a large model has thousands of nodes."""

    def create_node(self, *args, **kwargs) -> fx.Node:
        node = super().create_node(*args, **kwargs)
        if node.op in ("placeholder", "output"):
            return node  # made by the tracer itself: the stack is the caller's, not the model's
        lines = []
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if is_user_file(code.co_filename):
                lines.append(f'File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}\n')
            frame = frame.f_back
        node.stack_trace = "".join(reversed(lines))
        return node


def _trace(
    model: nn.Module, given: Optional[Sequence[str]]
) -> Tuple[Optional[fx.GraphModule], Optional[BaseException]]:
    """Symbolic trace with stack traces recorded; (None, error) when the model has data-dependent control flow.

    Arguments with a default that no input fills are traced with their default (`targets=None` takes the
    `if targets is None` branch, as a call without it does); `given` None: trace every argument."""
    before = [(module, dict(module.__dict__)) for module in model.modules()]
    concrete = input_plans.concrete_defaults(model, given) if given is not None else {}
    try:
        tracer = _Tracer()
        graph = tracer.trace(model, concrete_args=concrete or None)
        return fx.GraphModule(tracer.root, graph), None
    except Exception as error:  # not traceable: fall back to hooks
        _forget_proxies(before)
        return None, error


def _forget_proxies(before: List[Tuple[nn.Module, Dict[str, Any]]]) -> None:
    """Undo attributes the failed trace left holding fx proxies (`self.cache = x.shape[-1]` on a first
    call), so the eager run that follows sees the model as built."""
    for module, attributes in before:
        for key, value in list(module.__dict__.items()):
            if _holds_proxy(value):
                if key in attributes:
                    module.__dict__[key] = attributes[key]
                else:
                    del module.__dict__[key]


def _holds_proxy(value: Any, depth: int = 0) -> bool:
    if isinstance(value, fx.Proxy):
        return True
    if depth < 2 and isinstance(value, (list, tuple)):
        return any(_holds_proxy(item, depth + 1) for item in value)
    if depth < 2 and isinstance(value, dict):
        return any(_holds_proxy(item, depth + 1) for item in value.values())
    return False


class _ParameterUse(TorchFunctionMode):
    """Records which parameters any torch function touched during an eager forward, and the error a torch
    function raised (a shape error is one a torch operation raises, not the user's own checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.used: Set[int] = set()
        self.raised: Optional[BaseException] = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for value in list(args) + list(kwargs.values()):
            self._note(value)
        try:
            answer = meta_gap_answer(func, args)
            if answer is not NO_ANSWER:
                return answer
            check_meta_gaps(func, args, kwargs)
            return func(*args, **kwargs)
        except Exception as error:
            self.raised = error
            raise

    def _note(self, value: Any) -> None:
        if isinstance(value, nn.Parameter):
            self.used.add(id(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._note(item)


class _ModuleCalls:
    """Forward hooks on every submodule: which ran, which was running when an error was raised, and (when
    `record`) what each returned on its first call."""

    def __init__(self, model: nn.Module, record: bool = False) -> None:
        self.called: Set[str] = set()
        self.stack: List[str] = []
        self.deepest_failed: Optional[str] = None
        self.outputs: Dict[str, Tuple[Any, Optional[str], Optional[str]]] = {}  # path -> (shape, dtype in, out)
        self.record = record
        self.handles = []
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._leave(name)))

    def _enter(self, name: str):
        def hook(module, args):
            self.called.add(name)
            self.stack.append(name)

        return hook

    def _leave(self, name: str):
        def hook(module, args, output):
            if self.stack and self.stack[-1] == name:
                self.stack.pop()
            if self.record and name not in self.outputs:
                self.outputs[name] = (describe(output), _dtype_of(args), _dtype_of(output))

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def _dtype_of(value: Any) -> Optional[str]:
    """The dtype of the first tensor in a value (a module's arguments or output)."""
    if isinstance(value, torch.Tensor):
        return str(value.dtype).replace("torch.", "")
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _dtype_of(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _dtype_of(list(value.values()))
    return None


@dataclass
class _EagerRun:
    """One eager forward on meta: its output or error, the modules it called and the parameters it used."""

    output: Any
    error: Optional[BaseException]
    calls: _ModuleCalls
    used: Set[int]
    by_torch_op: bool  # the error was raised by a torch operation (not by the user's own checks)


def _eager(model: nn.Module, plan: input_plans.InputPlan, inputs: Tuple[torch.Tensor, ...], record=False) -> _EagerRun:
    calls = _ModuleCalls(model, record)
    use = _ParameterUse()
    error = None
    output = None
    args, kwargs = plan.arguments(inputs)
    try:
        with torch.no_grad(), use, flow.recording(model):  # which layer fed which (NN401 without fx)
            output = model(*args, **kwargs)
    except Exception as raised:  # user code
        error = raised
        calls.deepest_failed = calls.stack[-1] if calls.stack else None
    finally:
        calls.close()
    by_torch = error is not None and (error is use.raised or _raised_inside_torch(error))
    return _EagerRun(output, error, calls, use.used, by_torch)


def _asked_by_user_code(error: BaseException) -> bool:
    """Whether the innermost frame outside torch and nnlint that led to the error is the user's project
    code, not an installed library's."""
    innermost = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_user_file(filename):
            innermost = filename
        tb = tb.tb_next
    return innermost is not None and "site-packages" not in innermost and "dist-packages" not in innermost


def _raised_inside_torch(error: BaseException) -> bool:
    """Whether the innermost frame of the error is torch's own Python (a layer's argument checks, as
    `nn.LSTM.check_input`) rather than the user's code (their own `assert`, `raise`)."""
    innermost = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != __file__:  # not this module's own hooks around torch functions
            innermost = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return innermost is not None and not is_user_file(innermost)


def _graph_arguments(gm: fx.GraphModule, model: nn.Module, plan: input_plans.InputPlan, inputs) -> List[Any]:
    """The graph's placeholder values, in order, for a plan's inputs: its positional ones fill forward's
    arguments in order, its keyword ones by name, and arguments traced with their default get it."""
    args, kwargs = plan.arguments(inputs)
    if not kwargs:
        return list(args)
    positional = [p.name for p in input_plans.forward_parameters(model) if p.kind is not p.KEYWORD_ONLY]
    bound: Dict[str, Any] = dict(zip(positional, args))
    bound.update(kwargs)
    values = []
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            name = str(node.target)
            values.append(bound[name] if name in bound else (node.args[0] if node.args else None))
    return values


class _Failure(NamedTuple):
    """One input that did not run: at which free size, where (an fx node or module path), the error, and
    its kind: "shape" (a torch operation raised, in eager too), "meta" (needs real values), "rejected" (the
    model's own assert or ValueError refused the input) or "input" (wrong arity, None or non-tensor arguments,
    anything else: the input, not the model)."""

    size: int
    where: Any
    error: Optional[BaseException]
    kind: str


class _Subject:
    """The model being checked and its graph; the graph is dropped when fx and eager disagree."""

    def __init__(self, model: nn.Module, gm: Optional[fx.GraphModule], trace_error: Optional[BaseException]) -> None:
        self.model, self.gm, self.trace_error = model, gm, trace_error


def _kind(error: Optional[BaseException], by_torch_op: bool) -> str:
    if _meta_error(error):
        return "meta"
    if not by_torch_op and isinstance(error, (AssertionError, ValueError)):
        return "rejected"  # the model's own check refused this size (`assert t <= block_size`)
    if (
        by_torch_op
        and isinstance(error, (RuntimeError, ValueError, IndexError))
        and not isinstance(error, NotImplementedError)
        and not _dtype_error(error)
    ):
        return "shape"
    return "input"


def _dtype_error(error: BaseException) -> bool:
    """A float given where ids are expected (or the reverse): the input's dtype is wrong, not a shape."""
    text = str(error).lower()
    return "scalar type" in text or "dtype" in text or "long, int" in text or "expected both inputs to be" in text


def _attempt(subject: _Subject, plan: input_plans.InputPlan, size: int) -> Tuple[Optional[_Failure], Any]:
    """(None, the propagation with fx) when the input runs, else (the failure, None). An fx failure is
    confirmed by an eager forward: if eager runs, the tracer was wrong, and the model is analysed with hooks."""
    inputs = plan.make(BATCHES[0], size)
    if subject.gm is not None:
        propagation = run_shapes(subject.gm, tuple(_graph_arguments(subject.gm, subject.model, plan, inputs)))
        if propagation.ok:
            return None, propagation
        eager = _eager(subject.model, plan, inputs)
        if eager.error is None:
            subject.gm, subject.trace_error = None, propagation.error  # fx disagrees with eager: eager wins
            return None, None
        kind = _kind(eager.error, eager.by_torch_op)
        if kind == "shape":
            return _Failure(size, propagation.failed_node, propagation.error, kind), None
        return _Failure(size, eager.calls.deepest_failed, eager.error, kind), None
    eager = _eager(subject.model, plan, inputs)
    if eager.error is None:
        return None, None
    return _Failure(size, eager.calls.deepest_failed, eager.error, _kind(eager.error, eager.by_torch_op)), None


def _fx_diverges(subject: _Subject, plan, size: int, propagation: Propagation) -> bool:
    """Whether the traced graph ran, but not as the model does: eager execution calls other layers or
    returns other shapes (a branch on `isinstance(x, torch.Tensor)` that a proxy takes the other way)."""
    assert subject.gm is not None
    eager = _eager(subject.model, plan, plan.make(BATCHES[0], size))
    if eager.error is not None:
        return False  # nothing better to compare with
    output = next(node for node in reversed(subject.gm.graph.nodes) if node.op == "output")
    if describe(eager.output) != propagation.shapes.get(output.name):
        return True
    traced = {str(node.target) for node in subject.gm.graph.nodes if node.op == "call_module"}
    tracer = fx.Tracer()  # the modules fx keeps as calls (torch.nn layers) rather than tracing through
    leaves = {
        name
        for name in eager.calls.called
        if name
        and tracer.is_leaf_module(subject.model.get_submodule(name), name)
        and not any(name.startswith(call + ".") for call in traced)  # run inside a layer the graph calls
    }
    return bool(leaves - traced)


def _find_working_size(subject: _Subject, plan, inferred: bool) -> Tuple[Optional[int], List[_Failure], Any]:
    """(first size that runs at the first batch size, failures before it, its propagation with fx). An
    inferred input that fails before its first layer is wrong at every size: stop there."""
    failures: List[_Failure] = []
    for size in plan.sizes:
        failure, propagation = _attempt(subject, plan, size)
        if failure is None:
            return size, failures, propagation
        failures.append(failure)
        if failure.kind == "meta" or (
            inferred and _on_the_way_in(plan, failure.where, subject.gm) and not _too_small(failure.error)
        ):
            break
    return None, failures, None


def _choose_input(subject: _Subject, plans, inferred: bool, fallback: Location, target: GraphTarget):
    """(plan, working size, first propagation, None), or (.., .., .., the finding that ends the check).

    NN301 only for a real shape error: a torch operation raised on the input's shapes, in eager too, past
    the layer an inferred input was read from. A model that needs real values is NN012. Anything else (an
    inferred input that fails on the way in, a guessed argument, wrong arity, None arguments) says the input
    is wrong, not the model: NN014, with the input the model needs. An inferred input that does not fit gets
    a second guess, RGB images, for a model with 2-d convolutions or a declared image size."""
    candidates = list(plans)
    second = input_plans.images(subject.model) if inferred else None
    if second is not None and not any(p.describe(224) == second.describe(224) for p in candidates if not p.guessed):
        candidates.append(second)
    tried: List[Tuple[Any, List[_Failure]]] = []
    for plan in candidates:
        working, failures, first = _find_working_size(subject, plan, inferred and plan is not second)
        if working is not None:
            if first is not None and _fx_diverges(subject, plan, working, first):
                subject.gm, first = None, None  # the trace took another path than eager execution: eager wins
            return plan, working, first, None
        tried.append((plan, failures))
        if not failures:
            continue
        if any(f.kind == "meta" for f in failures):
            error = next(f.error for f in failures if f.kind == "meta" and f.error is not None)
            message = ModelNotRunnable.explain(target.target, error, subject.trace_error)
            # data-dependent code inside torch itself (nn.Transformer inspecting its mask) is no fault of the
            # model's: the note stays, as information
            severity = None if _asked_by_user_code(error) else Severity.INFO
            return plan, None, None, ModelNotRunnable.finding(fallback, message, Pass.GRAPH, None, severity)
        shape_errors = [f for f in failures if f.kind == "shape"]
        real = (
            not plan.guessed
            and plan is not second  # the second guess is only a guess: failing it says nothing of the model
            and shape_errors
            and all(f.kind in ("shape", "rejected") for f in failures)  # sizes the model refused are no evidence
            and not (inferred and _on_the_way_in(plan, failures[-1].where, subject.gm))
        )
        if real:
            size, where = shape_errors[0].size, shape_errors[0].where
            if subject.gm is not None:  # the shapes the message reads are those of the size it names
                run_shapes(
                    subject.gm, tuple(_graph_arguments(subject.gm, subject.model, plan, plan.make(BATCHES[0], size)))
                )
            sizes = [f.size for f in failures] if inferred and len(plan.sizes) > 1 else None
            finding = ShapeMismatch.failed_run(
                subject.model, where, shape_errors[0].error, plan.describe(size), fallback, sizes
            )
            return plan, None, None, finding
        if not inferred and not (failures[-1].kind == "input" and plan is candidates[0] and len(candidates) > 1):
            break  # configured inputs: no other guess to make (but the int64 form of a float shape an Embedding refused)
    failed = next(((plan, failures[-1]) for plan, failures in tried if failures), None)
    reason = _why_not(*failed) if failed is not None else " (no layer tells the shape of its input)"
    message = ModelInputUnknown.explain(
        target.target, reason, input_plans.configuration_hint(subject.model, target.target)
    )
    return (tried[0][0] if tried else None), None, None, ModelInputUnknown.finding(fallback, message, Pass.GRAPH)


def _why_not(plan, failure: _Failure) -> str:
    text = str(failure.error).strip() if failure.error is not None else ""
    detail = (text.splitlines()[0] if text else type(failure.error).__name__).rstrip(".")
    where = failure.where
    if isinstance(where, fx.Node):
        place = (
            f"`self.{where.target}`"
            if where.op == "call_module"
            else f"`{getattr(where.target, '__name__', where.target)}`"
        )
    else:
        place = f"`self.{where}`" if where else "the model"
    return f" (the guess {plan.describe(failure.size)} fails at {place}: {detail})"


def _on_the_way_in(plan, where, gm) -> bool:
    """Whether a failure happened at the layer an inferred input was read from, or on the way to it:
    then the input is wrong, not the model (unless the user's input path is, which nnlint cannot tell)."""
    if not plan.consumers or where is None:
        return False
    if isinstance(where, fx.Node):
        ancestors, frontier = set(), [c for c in plan.consumers if isinstance(c, fx.Node)]
        while frontier:
            node = frontier.pop()
            if node not in ancestors:
                ancestors.add(node)
                frontier.extend(node.all_input_nodes)
        return where in ancestors
    # hooks: the failing module is the first layer or contains it (a patch embedding around a Linear)
    return bool(where) and any(isinstance(c, str) and (c == where or c.startswith(where + ".")) for c in plan.consumers)


def _too_small(error: Optional[BaseException]) -> bool:
    """A size shorter than the first layer's kernel: a larger size may fit, so the guess is not wrong yet."""
    text = str(error).lower()
    return "kernel size" in text or "too small" in text or "smaller than kernel" in text


def _meta_error(error: Optional[BaseException]) -> bool:
    """The model needs real values (`.item()`, data-dependent control flow): NN012, whatever the input."""
    return error is not None and "meta" in str(error).lower()


def _two_runs(
    model, gm, plan, size, first: Optional[Propagation]
) -> Tuple[Tuple[GraphRun, GraphRun], Set[int], Set[str]]:
    """Shapes at both batch sizes, the parameters forward touched and the modules it called.

    With a graph, everything comes from shape propagation (the first batch's was done while finding the
    size); the graph names every module call and parameter read. Without one, two eager runs with hooks."""
    if gm is not None:
        return _graph_runs(model, gm, plan, size, first)
    runs = []
    used: Set[int] = set()
    called: Set[str] = set()
    for batch in BATCHES:
        inputs = plan.make(batch, size)
        eager = _eager(model, plan, inputs)
        used |= eager.used
        called |= eager.calls.called
        runs.append(
            GraphRun(
                batch,
                describe(eager.output) if eager.error is None else None,
                {},
                tuple(tuple(t.shape) for t in inputs),
            )
        )
    return (runs[0], runs[1]), used, called


def _graph_runs(
    model, gm, plan, size, first: Optional[Propagation]
) -> Tuple[Tuple[GraphRun, GraphRun], Set[int], Set[str]]:
    output_node = next(node for node in reversed(gm.graph.nodes) if node.op == "output")
    runs = []
    for batch in BATCHES:
        inputs = plan.make(batch, size)
        propagation = (
            first
            if batch == BATCHES[0] and first is not None
            else run_shapes(gm, tuple(_graph_arguments(gm, model, plan, inputs)))
        )
        output = propagation.shapes.get(output_node.name) if propagation.ok else None
        runs.append(GraphRun(batch, output, propagation.shapes, tuple(tuple(t.shape) for t in inputs)))
    used: Set[int] = set()
    called: Set[str] = set()
    for node in gm.graph.nodes:
        if node.op == "call_module":
            called.add(node.target)
            used.update(id(p) for p in model.get_submodule(node.target).parameters())
        elif node.op == "get_attr":
            value = _attribute(model, node.target)
            if isinstance(value, nn.Parameter):
                used.add(id(value))
    return (runs[0], runs[1]), used, called


def _attribute(model: nn.Module, path: str) -> Any:
    value: Any = model
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def summary_rows(model: nn.Module, plan: input_plans.InputPlan, size: int) -> List[Dict[str, Any]]:
    """Per module, as torchinfo shows it: path, type, output shape (containers included, from one eager
    forward with hooks, whether the model was analysed with fx or hooks), the output dtype where the module
    changes it, parameters and trainable parameters."""
    eager = _eager(model, plan, plan.make(BATCHES[0], size), record=True)
    rows = []
    for path, module in model.named_modules():
        own = list(module.parameters(recurse=True))
        shape, dtype_in, dtype_out = eager.calls.outputs.get(path, (None, None, None))
        if not path and eager.error is None:
            shape = describe(eager.output)
        rows.append(
            {
                "module": path or "(model)",
                "type": type(module).__name__,
                "output_shape": shape,
                "dtype": dtype_out if dtype_out is not None and dtype_out != dtype_in else None,
                "parameters": sum(p.numel() for p in own),
                "trainable": sum(p.numel() for p in own if p.requires_grad),
            }
        )
    return rows
