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

from nnlint import locate, registry
from nnlint.graph import inputs as input_plans
from nnlint.graph.context import GraphContext, GraphRun
from nnlint.graph.eager import eager_run, graph_arguments
from nnlint.graph.input_choice import BATCHES, Subject, choose_input
from nnlint.graph.input_dtypes import with_first_layer_dtypes
from nnlint.graph.interpreter import (
    Propagation,
    describe,
    fast_recurrent_layers,
    run_shapes,
)
from nnlint.graph.loading import LoadError, build, import_object, is_user_file
from nnlint.graph.result import GraphResult
from nnlint.graph.targets import GraphTarget
from nnlint.rule import GraphRule, OptionValues, Rule
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn010_model_import_failed import ModelImportFailed
from nnlint.rules.nn011_model_construction_failed import ModelConstructionFailed
from nnlint.types import Location, Pass


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
    subject = Subject(model, gm, trace_error)
    if example is not None:
        plans: List[input_plans.InputPlan] = [
            input_plans.InputPlan(lambda b, s: example, (0,), lambda s: "the factory's example inputs")
        ]
    elif configured is not None:
        plans = [configured]
        completed = with_first_layer_dtypes(model, target.inputs or ())
        if completed != target.inputs:  # `--input-shape 2,8` on an Embedding-first model: int64 ids,
            plans.append(input_plans.from_specs(completed))  # tried only when the float input fails
    else:
        plans = input_plans.infer_alternatives(model, gm.graph if gm is not None else None)
    inferred = example is None and target.inputs is None
    with fast_recurrent_layers(model):
        plan, working, first, verdict = choose_input(subject, plans, inferred, fallback, target)
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
        eager = eager_run(model, plan, inputs)
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
            else run_shapes(gm, tuple(graph_arguments(gm, model, plan, inputs)))
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
    eager = eager_run(model, plan, plan.make(BATCHES[0], size), record=True)
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
