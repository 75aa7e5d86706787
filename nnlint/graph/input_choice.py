"""Finding an input the model runs on: try each planned input at a few sizes, and decide what a failure means
(NN301 only for a real shape error confirmed in eager; NN012, NN014 otherwise)."""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Tuple

from torch import fx, nn

from nnlint.graph import inputs as input_plans
from nnlint.graph.eager import asked_by_user_code, eager_run, graph_arguments
from nnlint.graph.interpreter import (
    Propagation,
    describe,
    run_shapes,
)
from nnlint.graph.targets import GraphTarget
from nnlint.rules.nn012_model_not_runnable import ModelNotRunnable
from nnlint.rules.nn014_model_input_unknown import ModelInputUnknown
from nnlint.rules.nn301_shape_mismatch import ShapeMismatch
from nnlint.types import Location, Pass, Severity

BATCHES = (2, 3)  # two batch sizes: the batch dimension is the one that follows them


class _Failure(NamedTuple):
    """One input that did not run: at which free size, where (an fx node or module path), the error, and
    its kind: "shape" (a torch operation raised, in eager too), "meta" (needs real values), "rejected" (the
    model's own assert or ValueError refused the input) or "input" (wrong arity, None or non-tensor arguments,
    anything else: the input, not the model)."""

    size: int
    where: Any
    error: Optional[BaseException]
    kind: str


class Subject:
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


def _attempt(subject: Subject, plan: input_plans.InputPlan, size: int) -> Tuple[Optional[_Failure], Any]:
    """(None, the propagation with fx) when the input runs, else (the failure, None). An fx failure is
    confirmed by an eager forward: if eager runs, the tracer was wrong, and the model is analysed with hooks."""
    inputs = plan.make(BATCHES[0], size)
    if subject.gm is not None:
        propagation = run_shapes(subject.gm, tuple(graph_arguments(subject.gm, subject.model, plan, inputs)))
        if propagation.ok:
            return None, propagation
        eager = eager_run(subject.model, plan, inputs)
        if eager.error is None:
            subject.gm, subject.trace_error = None, propagation.error  # fx disagrees with eager: eager wins
            return None, None
        kind = _kind(eager.error, eager.by_torch_op)
        if kind == "shape":
            return _Failure(size, propagation.failed_node, propagation.error, kind), None
        return _Failure(size, eager.calls.deepest_failed, eager.error, kind), None
    eager = eager_run(subject.model, plan, inputs)
    if eager.error is None:
        return None, None
    return _Failure(size, eager.calls.deepest_failed, eager.error, _kind(eager.error, eager.by_torch_op)), None


def _fx_diverges(subject: Subject, plan, size: int, propagation: Propagation) -> bool:
    """Whether the traced graph ran, but not as the model does: eager execution calls other layers or
    returns other shapes (a branch on `isinstance(x, torch.Tensor)` that a proxy takes the other way)."""
    assert subject.gm is not None
    eager = eager_run(subject.model, plan, plan.make(BATCHES[0], size))
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


def _find_working_size(subject: Subject, plan, inferred: bool) -> Tuple[Optional[int], List[_Failure], Any]:
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


def choose_input(subject: Subject, plans, inferred: bool, fallback: Location, target: GraphTarget):
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
            severity = None if asked_by_user_code(error) else Severity.INFO
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
                    subject.gm, tuple(graph_arguments(subject.gm, subject.model, plan, plan.make(BATCHES[0], size)))
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
