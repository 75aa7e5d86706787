"""Probing one model: a measured first step, a few eval-mode tests, then optimizer steps; rules judge the facts.

Order: step 0 (train mode, hooks on: gradients, activations, cuts, custom Functions), extra no-grad
samples for activation statistics, gradient check, batch independence, the user's optimizer (when
given), then nnlint's own Adam on a few samples (the overfit test). The model and the optimizer are
restored afterwards. User-code failures become findings, never exceptions.
"""

from __future__ import annotations

import contextlib
import time
from typing import Dict, Iterator

import torch
from torch import nn

from nnlint import registry
from nnlint.probe import data, first_step, gradcheck, mixing, steps, summary
from nnlint.probe.context import ProbeContext
from nnlint.probe.facts import JUDGED, STEP_ZERO, TRAINING, Facts, OverfitResult, ParamFacts
from nnlint.probe.failures import ProbeAborted, user_code
from nnlint.probe.report import ProbeReport
from nnlint.probe.setup import Setup
from nnlint.probe.state import Snapshot
from nnlint.rule import Need, ProbeRule
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.rules.nn309_batch_dimension_mixing import BatchDimensionMixing
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.rules.nn318_gradcheck_mismatch import GradcheckMismatch
from nnlint.types import Pass

_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)
SMALL_MODEL = 1_000_000  # parameters


def run(setup: Setup) -> ProbeReport:
    """Probe a model and return the report; the model and optimizer are restored afterwards."""
    started = time.perf_counter()
    facts = Facts(user_optimizer=setup.optimizer is not None)
    ctx = ProbeContext(setup.model, facts, setup.fallback, setup.options)
    timings: Dict[str, float] = {}
    snapshot = Snapshot(setup.model, setup.optimizer)
    devices = [setup.device.index or 0] if setup.device.type == "cuda" else []
    threads = torch.get_num_threads()
    if setup.device.type == "cpu" and sum(p.numel() for p in setup.model.parameters()) < SMALL_MODEL:
        # Small matrices gain nothing from threads, and on a busy machine each parallel region waits for a
        # descheduled thread: single-threaded is up to 30x faster for such models there.
        torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(setup.seed)
            setup.model.to(setup.device)
            _phases(setup, ctx, snapshot, timings)
    except ProbeAborted as aborted:
        ctx.report(ModelRunAborted, aborted.where or setup.fallback, str(aborted))
    finally:
        snapshot.restore()
        torch.set_num_threads(threads)
    return summary.build(setup, ctx, timings, time.perf_counter() - started)


def _phases(setup: Setup, ctx: ProbeContext, snapshot: Snapshot, timings: Dict[str, float]) -> None:
    model, facts = setup.model, ctx.facts
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    facts.params = [param_facts(model, name, p) for name, p in params]

    with _clock(timings, "step 0"):
        output, recorder, captured = first_step.step_zero(setup, ctx, [p for _, p in params])
    facts.completed.add(STEP_ZERO)
    # the variance ratios of BatchNorms fed by dropout are measured on the extra samples too
    if facts.nonfinite is None and setup.needs(Need.ACTIVATIONS, Need.VARIANCE_SHIFT):
        with _clock(timings, "activations"):
            try:
                first_step.more_samples(setup, ctx, recorder)
            except ProbeAborted as failed:  # the statistics of step 0's batch are still judged
                ctx.status(DeadRelu.code, f"inconclusive: more samples could not run ({failed})")
    elif setup.needs(Need.ACTIVATIONS):
        ctx.status(DeadRelu.code, "skipped: step 0 produced NaN/Inf")
    first_step.read_recorder(ctx, recorder)
    if captured and setup.needs(Need.GRADCHECK):
        with _clock(timings, "gradcheck"):
            facts.gradchecks = gradcheck.check(captured, setup.seed)
    elif setup.needs(Need.GRADCHECK):
        ctx.status(GradcheckMismatch.code, "skipped: the model uses no custom autograd.Function")
    if setup.needs(Need.BATCH_INDEPENDENCE) and facts.nonfinite is None:
        with _clock(timings, "batch independence"):
            avoid = {d for t in data.float_outputs(output) for d in t.shape[1:]} | {
                d for t in setup.batches.shapes() for d in t[1:]
            }
            try:
                with user_code("an eval-mode forward pass"):
                    facts.mixing = mixing.check(model, setup.batches, setup.seed, avoid)
            except ProbeAborted as failed:  # this check alone cannot run: the others still can
                ctx.status(BatchDimensionMixing.code, f"skipped: {failed}")
        model.train()
    try:  # a failing training step is reported, and what step 0 measured is still judged
        if facts.nonfinite is None and setup.optimizer is not None and setup.needs(Need.USER_OPTIMIZER):
            with _clock(timings, "your optimizer"):
                snapshot.restore_weights()
                steps.user_optimizer(setup, ctx, params)
        if facts.nonfinite is None:
            with _clock(timings, "overfit"):
                snapshot.restore_weights()
                steps.own_optimizer(setup, ctx, params, output, snapshot.restore_weights)
        else:
            facts.overfit = OverfitResult("skipped", "the first step produced NaN/Inf (NN317)")
        facts.completed.add(TRAINING)
    except ProbeAborted as aborted:
        ctx.report(ModelRunAborted, aborted.where or setup.fallback, str(aborted))
    with _clock(timings, "rules"):
        _judge(setup, ctx)
    facts.completed.add(JUDGED)


@contextlib.contextmanager
def _clock(timings: Dict[str, float], name: str) -> Iterator[None]:
    """Add a phase's wall and CPU seconds to `timings`."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - wall
        timings[name + " (cpu)"] = timings.get(name + " (cpu)", 0.0) + time.process_time() - cpu


def param_facts(model: nn.Module, name: str, param: nn.Parameter) -> ParamFacts:
    """The static facts of one trainable parameter: its module, shape and whether it is a layer's weight."""
    module_path = name.rpartition(".")[0]
    module = model.get_submodule(module_path) if module_path else model
    # weight matrices and kernels of layers; not embedding tables nor tokens and position tables of containers
    is_weight = param.dim() >= 2 and not isinstance(module, _EMBEDDINGS) and next(module.children(), None) is None
    return ParamFacts(name, module_path, type(module).__name__, tuple(param.shape), is_weight)


def _judge(setup: Setup, ctx: ProbeContext) -> None:
    for rule in registry.hooked(registry.rules_for(setup.codes), ProbeRule):
        try:
            rule(ctx).check_probe(ctx)
        except Exception as error:  # a bug in one rule must not hide the others
            ctx.report(InternalError, setup.fallback, InternalError.rule_failed(rule, Pass.PROBE, error))
