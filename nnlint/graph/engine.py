"""Checking one model target (inside a worker): import, build on meta, trace, find a working input, run graph rules."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Type

import torch
from torch import fx, nn
from torch.overrides import TorchFunctionMode

from nnlint import locate, registry
from nnlint.graph import flow
from nnlint.graph import inputs as input_plans
from nnlint.graph.context import GraphContext, GraphRun
from nnlint.graph.interpreter import Propagation, describe, fast_recurrent_layers, run_shapes
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
from nnlint.types import Finding, Location, Pass

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

    gm, trace_error = _trace(model)
    clock.lap("trace")
    result.method = "fx" if gm is not None else "hooks"
    if example is not None:
        plan: Optional[input_plans.InputPlan] = input_plans.InputPlan(
            lambda b, s: example, (0,), lambda s: "the factory's example inputs"
        )
    elif target.inputs is not None:
        plan = input_plans.from_specs(target.inputs)
    else:
        plan = input_plans.infer(model, gm.graph if gm is not None else None)
    inferred = example is None and target.inputs is None
    with fast_recurrent_layers(model):
        plan, working, failures, first, unknown = _choose_input(model, gm, plan, inferred, fallback, target)
    clock.lap("inputs")
    if unknown is not None:
        result.findings.append(unknown)
        return _done(result, started)
    if working is None:
        result.findings.append(_no_working_size(model, gm, plan, failures, fallback, inferred, target, trace_error))
        return _done(result, started)
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
        result.summary = summary_rows(model, gm, runs[0])
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


def _trace(model: nn.Module) -> Tuple[Optional[fx.GraphModule], Optional[BaseException]]:
    """Symbolic trace with stack traces recorded; (None, error) when the model has data-dependent control flow."""
    before = [(module, dict(module.__dict__)) for module in model.modules()]
    try:
        tracer = _Tracer()
        graph = tracer.trace(model)
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
    """Records which parameters any torch function touched during an eager forward."""

    def __init__(self) -> None:
        super().__init__()
        self.used: Set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for value in list(args) + list(kwargs.values()):
            self._note(value)
        return func(*args, **kwargs)

    def _note(self, value: Any) -> None:
        if isinstance(value, nn.Parameter):
            self.used.add(id(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._note(item)


class _ModuleCalls:
    """Forward hooks on every submodule: which ran, and which was running when an error was raised."""

    def __init__(self, model: nn.Module) -> None:
        self.called: Set[str] = set()
        self.stack: List[str] = []
        self.deepest_failed: Optional[str] = None
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

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def _eager(
    model: nn.Module, inputs: Tuple[torch.Tensor, ...]
) -> Tuple[Any, Optional[BaseException], _ModuleCalls, Set[int]]:
    calls = _ModuleCalls(model)
    use = _ParameterUse()
    error = None
    output = None
    try:
        with torch.no_grad(), use, flow.recording(model):  # which layer fed which (NN401 without fx)
            output = model(*inputs)
    except Exception as raised:  # user code
        error = raised
        calls.deepest_failed = calls.stack[-1] if calls.stack else None
    finally:
        calls.close()
    return output, error, calls, use.used


def _attempt(model: nn.Module, gm: Optional[fx.GraphModule], inputs: Tuple[torch.Tensor, ...]):
    """(ok, failed node or module path, error, the propagation with fx) for one input."""
    if gm is not None:
        propagation = run_shapes(gm, inputs)
        return propagation.ok, propagation.failed_node, propagation.error, propagation
    _, error, calls, _ = _eager(model, inputs)
    return error is None, calls.deepest_failed, error, None


def _find_working_size(model, gm, plan, inferred: bool) -> Tuple[Optional[int], list, Optional[Propagation]]:
    """(first size that runs at the first batch size, failures before it, its propagation with fx). An
    inferred input that fails before its first layer is wrong at every size: stop there."""
    failures: List[Any] = []
    for size in plan.sizes:
        ok, where, error, propagation = _attempt(model, gm, plan.make(BATCHES[0], size))
        if ok:
            return size, failures, propagation
        failures.append((size, where, error))
        if inferred and not _meta_error(error) and _on_the_way_in(plan, where, gm):
            break
    return None, failures, None


def _choose_input(model, gm, plan, inferred, fallback, target):
    """(plan, working size, failures, first propagation, NN014 finding or None).

    An inferred input that fails at or before the layer it was read from is a wrong guess, not a broken
    model; so is a model whose first layer tells nothing. A model with 2-d convolutions or a declared image
    size then gets a second guess, RGB images; if that fails too, the model is skipped with NN014."""
    failures: list = []
    if plan is not None:
        working, failures, first = _find_working_size(model, gm, plan, inferred)
        _, where, error = failures[-1] if failures else (None, None, None)
        if working is not None or not inferred or _meta_error(error) or not _on_the_way_in(plan, where, gm):
            return plan, working, failures, first, None
    second = input_plans.images(model) if inferred else None
    if second is not None and (plan is None or second.describe(224) != plan.describe(224)):
        working, second_failures, first = _find_working_size(model, gm, second, inferred=False)
        if working is not None:
            return second, working, [], first, None
        if plan is None:
            plan, failures = second, second_failures
    message = ModelInputUnknown.explain(target.target)
    if plan is not None and failures:
        message += _why_not(plan, failures[-1])
    return plan, None, failures, None, ModelInputUnknown.finding(fallback, message, Pass.GRAPH)


def _why_not(plan, failure) -> str:
    size, where, error = failure
    text = str(error).strip() if error is not None else ""
    detail = text.splitlines()[0] if text else type(error).__name__
    if isinstance(where, fx.Node):
        place = (
            f"`self.{where.target}`"
            if where.op == "call_module"
            else f"`{getattr(where.target, '__name__', where.target)}`"
        )
    else:
        place = f"`self.{where}`" if where else "the model"
    return f" (The guess {plan.describe(size)} fails at {place}: {detail}.)"


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


def _meta_error(error: Optional[BaseException]) -> bool:
    """The model needs real values (`.item()`, data-dependent control flow): NN012, whatever the input."""
    return error is not None and "meta" in str(error).lower()


def _no_working_size(model, gm, plan, failures, fallback, inferred, target, trace_error) -> Finding:
    size, where, error = failures[0]
    if _meta_error(error):
        message = ModelNotRunnable.explain(target.target, error, trace_error)
        return ModelNotRunnable.finding(fallback, message, Pass.GRAPH)
    tried = [s for s, _, _ in failures] if inferred and len(plan.sizes) > 1 else None
    return ShapeMismatch.failed_run(model, where, error, plan.describe(size), fallback, tried)


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
        output, error, calls, touched = _eager(model, inputs)
        used |= touched
        called |= calls.called
        runs.append(
            GraphRun(batch, describe(output) if error is None else None, {}, tuple(tuple(t.shape) for t in inputs))
        )
    return (runs[0], runs[1]), used, called


def _graph_runs(
    model, gm, plan, size, first: Optional[Propagation]
) -> Tuple[Tuple[GraphRun, GraphRun], Set[int], Set[str]]:
    output_node = next(node for node in reversed(gm.graph.nodes) if node.op == "output")
    runs = []
    for batch in BATCHES:
        inputs = plan.make(batch, size)
        propagation = first if batch == BATCHES[0] and first is not None else run_shapes(gm, inputs)
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


def summary_rows(model: nn.Module, gm: Optional[fx.GraphModule], run: GraphRun) -> List[Dict[str, Any]]:
    """Per module: path, type, output shape (with fx), parameters, trainable parameters."""
    shapes: Dict[str, Any] = {}
    if gm is not None:
        for node in gm.graph.nodes:
            if node.op == "call_module":
                shapes[node.target] = run.node_shapes.get(node.name)
    rows = []
    for path, module in model.named_modules():
        own = list(module.parameters(recurse=True))
        rows.append(
            {
                "module": path or "(model)",
                "type": type(module).__name__,
                "output_shape": shapes.get(path) if path else run.output,
                "parameters": sum(p.numel() for p in own),
                "trainable": sum(p.numel() for p in own if p.requires_grad),
            }
        )
    return rows
