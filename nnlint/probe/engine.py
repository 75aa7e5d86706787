"""Probing one model: a measured first step, a few eval-mode tests, then optimizer steps; rules judge the facts.

Order: step 0 (train mode, hooks on: gradients, activations, cuts, custom Functions), extra no-grad
samples for activation statistics, gradient check, batch independence, the user's optimizer (when
given), then nnlint's own Adam on a few samples (the overfit test). The model and the optimizer are
restored afterwards. User-code failures become findings, never exceptions.
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import torch
from torch import nn

from nnlint import registry
from nnlint.probe import borrowed, cuts, data, gradcheck, mixing, numerics
from nnlint.probe.context import ProbeContext
from nnlint.probe.facts import Facts, LossFacts, NonFinite, OverfitResult, ParamFacts, Regularization, VarianceShift, Where
from nnlint.probe import summary
from nnlint.probe.report import ProbeReport
from nnlint.probe.state import Snapshot
from nnlint.probe.stats import Recorder
from nnlint.probe.training import RATIO_STEPS, TrainLog, median, train
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.rules.nn101_cannot_overfit_batch import CannotOverfitBatch
from nnlint.rules.nn314_saturated_activation import SaturatedActivation
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.types import Pass

PROBE_CODES: FrozenSet[str] = frozenset(code for code, rule in registry.BY_CODE.items() if Pass.PROBE in rule.passes)
_ACTIVATION_CODES = ("NN313", "NN314")
_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)
SMALL_MODEL = 1_000_000  # parameters


@dataclass
class Setup:
    """Everything one probe needs, resolved: the model on its device, inputs, loss, limits."""

    model: nn.Module
    batches: data.Batches
    batch: int
    input_description: str
    task: Optional[str]
    loss_fn: Optional[Callable]
    targets: Any  # the user's targets, or None for synthetic ones
    optimizer: Optional[torch.optim.Optimizer]
    device: torch.device
    seed: int
    codes: FrozenSet[str]
    options: Dict[str, Dict[str, Any]]
    fallback: Where
    budget: float
    max_steps: Optional[int] = None
    name: str = "model"
    notes: List[str] = field(default_factory=list)
    targets_used: Any = None  # the targets of step 0 (the user's or synthetic)


class ProbeAborted(Exception):
    """User code failed in a way that stops the probe; carries the finding to report."""

    def __init__(self, message: str, where: Optional[Where]) -> None:
        super().__init__(message)
        self.where = where


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
    facts.params = [_param_facts(model, name, p) for name, p in params]

    clock = _Clock(timings)
    with clock("step 0"):
        output, recorder, captured = _step_zero(setup, ctx, [p for _, p in params])
    if facts.nonfinite is None and _wanted(setup, *_ACTIVATION_CODES, "NN401"):
        with clock("activations"):
            _more_samples(setup, ctx, recorder)
    elif _wanted(setup, *_ACTIVATION_CODES):
        ctx.status("NN313", "skipped: step 0 produced NaN/Inf")
    _read_recorder(ctx, recorder)
    if captured and _wanted(setup, "NN318"):
        with clock("gradcheck"):
            facts.gradchecks = gradcheck.check(captured, setup.seed)
    elif _wanted(setup, "NN318"):
        ctx.status("NN318", "skipped: the model uses no custom autograd.Function")
    if _wanted(setup, "NN309") and facts.nonfinite is None:
        with clock("batch independence"):
            avoid = {d for t in data.float_outputs(output) for d in t.shape[1:]} | {d for t in setup.batches.shapes() for d in t[1:]}
            facts.mixing = _guarded(lambda: mixing.check(model, setup.batches, setup.seed, avoid))
        _train_mode(snapshot)
    if facts.nonfinite is None and setup.optimizer is not None and _wanted(setup, "NN411", "NN412", "NN208"):
        with clock("your optimizer"):
            snapshot.restore_weights()
            _user_optimizer(setup, ctx, params, output)
    if facts.nonfinite is None:
        with clock("overfit"):
            snapshot.restore_weights()
            _own_optimizer(setup, ctx, params, output)
    else:
        facts.overfit = OverfitResult("skipped", "the first step produced NaN/Inf (NN317)")
    with clock("rules"):
        _judge(setup, ctx)


class _Clock:
    """Times named phases into a dict."""

    def __init__(self, timings: Dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, name: str):
        clock = self

        class _Timer:
            def __enter__(self):
                self.start, self.cpu = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                clock.timings[name] = clock.timings.get(name, 0.0) + time.perf_counter() - self.start
                clock.timings[name + " (cpu)"] = clock.timings.get(name + " (cpu)", 0.0) + time.process_time() - self.cpu
                return False

        return _Timer()


def _wanted(setup: Setup, *codes: str) -> bool:
    return any(code in setup.codes for code in codes)


def _param_facts(model: nn.Module, name: str, param: nn.Parameter) -> ParamFacts:
    module_path = name.rpartition(".")[0]
    module = model.get_submodule(module_path) if module_path else model
    is_weight = param.dim() >= 2 and not isinstance(module, _EMBEDDINGS)
    return ParamFacts(name, module_path, type(module).__name__, tuple(param.shape), is_weight)


# --- step 0 ------------------------------------------------------------------------------------

def _step_zero(setup: Setup, ctx: ProbeContext, params: List[nn.Parameter]):
    """Forward, loss and backward in train mode with every hook on; fills gradient and loss facts."""
    model, facts = setup.model, ctx.facts
    model.train()
    args = setup.batches.get(setup.batch)
    recorder = Recorder(model, ctx.option(SaturatedActivation, "preactivation"))
    recorder.activations = True  # the report's table shows activation statistics even when NN313/NN314 are off
    recorder.cuts_enabled = _wanted(setup, "NN312")
    recorder.variance = _wanted(setup, "NN401")
    captured: gradcheck.Captured = {}
    with _user_code("the forward pass"):
        with (gradcheck.capture_functions() if _wanted(setup, "NN318") else _no_capture()) as captured, recorder:
            output = model(*args[0], **args[1])
    logits = data.logits_of(output)
    if logits is None:
        raise ProbeAborted(
            f"`{setup.name}` returned {type(output).__name__} with no floating-point tensor, so there is nothing to "
            "backpropagate from. Return the logits (or a tuple/dict holding them).", setup.fallback)
    targets = setup.targets if setup.targets is not None else data.make_targets(setup.task, output, _generator(setup, 1))
    setup.targets_used = targets
    with _user_code("the loss"):
        value = data.compute_loss(setup.loss_fn, setup.task, output, targets)
    loss_facts = _loss_facts(setup, recorder, logits, targets)
    facts.loss = loss_facts
    reg0 = _regularization_terms(setup, value)
    if value.total.requires_grad:
        with _user_code("the backward pass"):
            value.total.backward()
    # one synchronisation for everything step 0 measured
    present = [p for p in params if p.grad is not None]
    weights = [p.detach() for p in present]
    grads = [p.grad.detach() for p in present]
    pieces = [value.total.detach().float().reshape(1), _finite_flag(output)]
    pieces.append(data.probability_rows(logits).float().reshape(1))
    if reg0 is not None:
        pieces += [reg0[0].detach().float().reshape(1), reg0[1].detach().float().reshape(1)]
    if present:
        pieces += [torch.stack(torch._foreach_norm(grads, 1)).float(), torch.stack(torch._foreach_norm(grads, 2)).float(),
                   torch.stack(torch._foreach_norm(grads, float("inf"))).float(), torch.stack(torch._foreach_norm(weights, 2)).float()]
    values = torch.cat([p.to(logits.device) for p in pieces]).tolist()
    loss_facts.initial, output_finite, loss_facts.probabilities = values[0], bool(values[1]), bool(values[2])
    offset = 3
    if reg0 is not None:
        facts.regularization = Regularization(reg0[2], values[3], values[4])
        offset = 5
    by_param = {id(p): i for i, p in enumerate(present)}
    count = len(present)
    for facts_p, param in zip(facts.params, params):
        facts_p.used = id(param) in recorder.used_params or not recorder.cuts_enabled
        facts_p.order = recorder.order.index(facts_p.module) if facts_p.module in recorder.order else -1
        index = by_param.get(id(param))
        if index is None:
            continue
        l1, l2, top, size = (values[offset + k * count + index] for k in range(4))
        facts_p.had_grad, facts_p.nonzero = True, l1 > 0
        facts_p.finite = math.isfinite(l1) and math.isfinite(l2)
        facts_p.grad_mean_abs, facts_p.grad_norm, facts_p.grad_max_abs, facts_p.weight_norm = l1 / max(param.numel(), 1), l2, top, size
    _check_finite(setup, ctx, args, output, params, output_finite, step=0)
    if recorder.cuts_enabled:
        cuts.explain(model, [f for f in facts.params if not f.had_grad], recorder)
    for param in params:
        param.grad = None
    return _detach(output), recorder, captured


def _finite_flag(output: Any) -> torch.Tensor:
    tensors = data.float_outputs(output)
    device = tensors[0].device if tensors else "cpu"
    flags = [torch.isfinite(t.detach()).all().reshape(1) for t in tensors]
    return torch.cat(flags).all().float().reshape(1) if flags else torch.ones(1, device=device)


class _no_capture:
    def __enter__(self) -> dict:
        return {}

    def __exit__(self, *exc) -> bool:
        return False


def _detach(output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, (list, tuple)):
        return type(output)(_detach(o) for o in output) if not hasattr(output, "_fields") else type(output)(*(_detach(o) for o in output))
    if isinstance(output, dict):
        return {k: _detach(v) for k, v in output.items()}
    return output


def _generator(setup: Setup, stream: int) -> torch.Generator:
    """A CPU generator per purpose, so results do not depend on which checks ran before."""
    return torch.Generator().manual_seed(setup.seed * 1000 + stream)


def _loss_facts(setup: Setup, recorder: Recorder, logits: torch.Tensor, targets: Any) -> LossFacts:
    name = "a surrogate loss (mean squared error against random targets)" if setup.loss_fn is None else type(setup.loss_fn).__name__
    facts = LossFacts(setup.task, name)
    facts.log_softmax_loss = data.applies_log_softmax(setup.loss_fn)
    facts.classes = logits.shape[1] if logits.dim() >= 2 else None
    facts.softmax_where = recorder.softmax_where
    facts.output_module = recorder.order[-1] if recorder.order else ""
    if setup.loss_fn is not None:
        facts.expected, facts.expected_why = data.chance_loss(setup.task, setup.loss_fn, logits, targets, setup.targets is not None)
    else:
        facts.expected_why = "no task or loss was given"
    return facts


def _regularization_terms(setup: Setup, value: data.LossValue) -> Optional[Tuple[torch.Tensor, torch.Tensor, str]]:
    """(regularization term, data term, where it comes from) when the loss reports parts or weight decay is set."""
    if value.parts:
        reg_names, data_names = data.split_parts(value.parts)
        if reg_names and data_names:
            reg = torch.stack([value.parts[n].reshape(()) for n in reg_names]).sum()
            dat = torch.stack([value.parts[n].reshape(()) for n in data_names]).sum()
            return reg, dat, "the loss terms " + ", ".join(f"`{n}`" for n in reg_names)
    term = _weight_decay_term(setup.optimizer)
    if term is not None:
        return term[0], value.total, term[1]
    return None


def _weight_decay_term(optimizer: Optional[torch.optim.Optimizer]) -> Optional[Tuple[torch.Tensor, str]]:
    if optimizer is None:
        return None
    terms, decays = [], set()
    for group in optimizer.param_groups:
        decay = float(group.get("weight_decay", 0.0) or 0.0)
        params = [p for p in group["params"] if p.requires_grad]
        if decay > 0 and params:
            decays.add(decay)
            terms.append(decay / 2 * torch.stack(torch._foreach_norm([p.detach() for p in params])).pow(2).sum())
    if not terms:
        return None
    shown = ", ".join(f"{d:g}" for d in sorted(decays))
    return torch.stack(terms).sum(), f"weight_decay={shown} in your optimizer (as an L2 term: weight_decay/2 · ||θ||²)"


def _check_finite(setup: Setup, ctx: ProbeContext, args, output, params, output_finite: bool, step: int) -> None:
    facts = ctx.facts
    if facts.nonfinite is not None:
        return
    if not output_finite:
        what, where = numerics.locate_forward(setup.model, args[0], args[1])
        phase = "the input batch" if what.startswith("the input batch") else "forward"
        facts.nonfinite = NonFinite(phase, step, what, where)
    elif facts.loss is not None and not math.isfinite(facts.loss.initial):
        facts.nonfinite = NonFinite("the loss", step, f"the loss ({facts.loss.loss_name}) is NaN/Inf although the outputs are finite", None)
    elif any(p.had_grad and not p.finite for p in facts.params):
        def again() -> torch.Tensor:
            out = setup.model(*args[0], **args[1])
            return data.compute_loss(setup.loss_fn, setup.task, out, setup.targets_used).total

        what, where = numerics.locate_backward(again, params)
        facts.nonfinite = NonFinite("backward", step, what, where)


def _more_samples(setup: Setup, ctx: ProbeContext, recorder: Recorder) -> None:
    """No-grad train-mode forwards until activation statistics cover `min_samples` samples."""
    need = int(ctx.option(DeadRelu, "min_samples")) - setup.batch
    if need <= 0:
        return
    recorder.cuts_enabled = False
    args = setup.batches.extra(need)
    with _user_code("the forward pass"), torch.no_grad(), recorder:
        setup.model(*args[0], **args[1])


def _read_recorder(ctx: ProbeContext, recorder: Recorder) -> None:
    facts = ctx.facts
    share = float(ctx.option(SaturatedActivation, "sample_share"))
    facts.activations, facts.layer_outputs, ratios = recorder.read(share)
    seen = set()
    for module, where, label, ratio in ratios:  # the first forward that saw each BatchNorm
        if module not in seen:
            seen.add(module)
            facts.variance_shifts.append(VarianceShift(module, where, ratio, label))


def _guarded(run: Callable[[], Any]) -> Any:
    with _user_code("an eval-mode forward pass"):
        return run()


def _train_mode(snapshot: Snapshot) -> None:
    snapshot.model.train()


# --- optimizer steps ---------------------------------------------------------------------------

def _measure(setup: Setup, task: Optional[str], targets: Any, with_reg: bool):
    def measure(output: Any, value: data.LossValue):
        accuracy = data.accuracy(task, setup.loss_fn, output, targets) if task is not None else None
        reg = _regularization_terms(setup, value) if with_reg else None
        return accuracy, (reg[0] if reg else None), (reg[1] if reg else None)

    return measure


def _user_optimizer(setup: Setup, ctx: ProbeContext, params: List[Tuple[str, nn.Parameter]], output: Any) -> None:
    """Ten steps with the caller's optimizer on the full batch: are all parameters in it, do they move, how fast."""
    facts = ctx.facts
    grouped = {id(p): float(g.get("lr", 0.0)) for g in setup.optimizer.param_groups for p in g["params"]}
    for facts_p, (_, param) in zip(facts.params, params):
        facts_p.in_optimizer = id(param) in grouped
        facts_p.lr = grouped.get(id(param))
    args = setup.batches.get(setup.batch)
    targets = setup.targets_used
    members = [p for _, p in params if id(p) in grouped]
    if not members:
        return
    log = train(setup.model, members, setup.optimizer, args, _loss_of(setup, targets), _measure(setup, None, targets, facts.regularization is not None),
                RATIO_STEPS[1], setup.budget / 2, tracked=range(len(members)))
    _fail_on_error(log)
    facts.optimizer_steps = len(log.steps)
    index = {id(p): i for i, p in enumerate(members)}
    for facts_p, (_, param) in zip(facts.params, params):
        i = index.get(id(param))
        if i is None:
            continue
        if log.changed:
            facts_p.changed = log.changed[i]
        facts_p.update_ratio = median(log.ratios.get(i, []))
    _note_regularization(facts, log)
    _note_nonfinite_training(setup, ctx, log, args, [p for _, p in params], "your optimizer")


def _own_optimizer(setup: Setup, ctx: ProbeContext, params: List[Tuple[str, nn.Parameter]], output: Any) -> None:
    """Adam on a few samples with dropout off: the overfit test, gradients over more steps, and (without the
    caller's optimizer) whether a step changes every parameter. Growth of regularization is judged only with
    the caller's optimizer: while overfitting, the data term falls towards zero by design."""
    facts = ctx.facts
    overfit = _wanted(setup, "NN101") and setup.task is not None
    if facts.loss is not None and facts.loss.probabilities and facts.loss.log_softmax_loss:
        overfit = False  # cannot succeed: reported as softmax-before-cross-entropy
        facts.overfit = OverfitResult("skipped", "the outputs are probabilities under a log-softmax loss (NN201)")
    elif setup.task is None:
        facts.overfit = OverfitResult("skipped", "no task or loss was given, so there is nothing to fit")
    trainable = [p for _, p in params]
    if not trainable:
        return
    n = max(1, min(int(ctx.option(CannotOverfitBatch, "samples")), setup.batch))
    args = setup.batches.get(n)
    if setup.targets is not None:
        targets = data.slice_targets(setup.targets_used, n)
    else:
        targets = data.make_targets(setup.task, data.slice_targets(output, n), _generator(setup, 2))
    optimizer = torch.optim.Adam(trainable, lr=float(ctx.option(CannotOverfitBatch, "lr")), foreach=True)
    fraction = float(ctx.option(CannotOverfitBatch, "loss_fraction"))
    max_steps = setup.max_steps or int(ctx.option(CannotOverfitBatch, "steps"))
    zero = [i for i, f in enumerate(facts.params) if f.had_grad and not f.nonzero]
    minimum = 3 if zero else 1  # a zero-initialised layer downstream passes gradients after a step or two

    def done(steps) -> bool:
        if len(steps) < minimum:
            return False
        if not overfit:
            return True
        return _fits(steps, fraction)

    log = train(setup.model, trainable, optimizer, args, _loss_of(setup, targets), _measure(setup, setup.task if overfit else None, targets, False),
                max(max_steps, minimum) if overfit else minimum, setup.budget, done, dropout=False, zero=zero)
    _fail_on_error(log)
    for i, facts_p in enumerate(facts.params):
        if i in log.had_grad:
            facts_p.had_grad = True
        if i in log.nonzero:
            facts_p.nonzero = True
        if setup.optimizer is None and log.changed:
            facts_p.changed = log.changed[i]
    if setup.optimizer is None:
        facts.optimizer_steps = len(log.steps)
    _note_nonfinite_training(setup, ctx, log, args, trainable, f"Adam (lr {optimizer.param_groups[0]['lr']:g}) on {n} samples")
    if overfit:
        facts.overfit = _overfit_result(log, n, fraction, max_steps, setup.device)


def _fits(steps, fraction: float) -> bool:
    last = steps[-1]
    return last.loss <= fraction * steps[0].loss and (last.accuracy is None or last.accuracy >= 1.0)


def _overfit_result(log: TrainLog, n: int, fraction: float, max_steps: int, device: torch.device) -> OverfitResult:
    losses = [s.loss for s in log.steps]
    result = OverfitResult(samples=n, steps=len(losses), seconds=log.seconds, losses=losses)
    if not losses:
        result.status, result.reason = "inconclusive", "no step ran"
        return result
    result.initial_loss, result.final_loss, result.best_loss = losses[0], losses[-1], min(losses)
    result.accuracy = log.steps[-1].accuracy
    if log.stopped == "fit":
        result.status = "passed"
    elif log.stopped == "nonfinite":
        result.status, result.reason = "inconclusive", "the loss became NaN/Inf (reported as NN317)"
    elif _plateaued(losses):
        result.status, result.reason = "failed", "plateau"
    elif log.stopped == "steps":
        # Precision first: a loss still falling at the step limit is a slow learner, not a broken one.
        result.status, result.reason = "inconclusive", f"the loss was still falling after {len(losses)} steps"
    else:
        result.status = "inconclusive"
        result.reason = f"the time budget ran out after {len(losses)} steps while the loss was still falling"
    return result


def _plateaued(losses: List[float], window: int = 20, gain: float = 0.02) -> bool:
    """The best loss of the last `window` steps is within `gain` of the best before them (after >= 30 steps)."""
    if len(losses) < 30:
        return False
    before, recent = min(losses[:-window]), min(losses[-window:])
    return recent >= (1 - gain) * before


def _loss_of(setup: Setup, targets: Any) -> Callable[[Any], data.LossValue]:
    return lambda output: data.compute_loss(setup.loss_fn, setup.task, output, targets)


def _fail_on_error(log: TrainLog) -> None:
    if log.error is not None:
        raise _as_aborted(log.error, "a training step")


def _note_regularization(facts: Facts, log: TrainLog) -> None:
    if facts.regularization is None:
        return
    last = next((s for s in reversed(log.steps) if s.regularization is not None), None)
    if last is not None:
        facts.regularization.final_reg, facts.regularization.final_data = last.regularization, last.data


def _note_nonfinite_training(setup: Setup, ctx: ProbeContext, log: TrainLog, args, params, how: str) -> None:
    if log.stopped != "nonfinite" or ctx.facts.nonfinite is not None:
        return
    step = len(log.steps)
    what, where = numerics.locate_forward(setup.model, args[0], args[1])
    if what == "the forward pass produced NaN/Inf":
        what = "the loss or the gradients became NaN/Inf"
    ctx.facts.nonfinite = NonFinite(f"training ({how})", step, what, where)


# --- judging -----------------------------------------------------------------------------------

def _judge(setup: Setup, ctx: ProbeContext) -> None:
    for rule in registry.rules_for(setup.codes):
        check = getattr(rule, "check_probe", None)
        if check is None:
            continue
        try:
            rule(ctx).check_probe()  # type: ignore[arg-type]
        except Exception as error:  # a bug in one rule must not hide the others
            from nnlint.rules.nn003_internal_error import InternalError

            ctx.report(InternalError, setup.fallback, f"Probe rule {rule.code} ({rule.name}) failed with {type(error).__name__}: {error}. This is a bug in nnlint.")
    borrowed.check(ctx, setup.codes)


# --- user-code failures ------------------------------------------------------------------------

class _user_code:
    """Turns an exception raised by the user's code in a phase into ProbeAborted with a helpful message."""

    def __init__(self, phase: str) -> None:
        self.phase = phase

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or isinstance(error, (ProbeAborted, KeyboardInterrupt)) or not isinstance(error, Exception):
            return False
        raise _as_aborted(error, self.phase) from None


def _as_aborted(error: BaseException, phase: str) -> ProbeAborted:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if _out_of_memory(error):
        return ProbeAborted(
            f"The probe ran out of memory in {phase} ({type(error).__name__}: {text[:200]}). Probe with a smaller batch "
            "(the first number of `--input-shape`, or fewer rows in `inputs`) or on a device with more memory.", _raised_at(error))
    return ProbeAborted(
        f"The probe stopped: {phase} raised {type(error).__name__}: {text[:300]}. If the input does not fit the model, "
        "give the right one (`--input-shape`, `inputs` in [[tool.nnlint.models]], or `inputs=` in Python).", _raised_at(error))


def _out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or "out of memory" in str(error).lower() or "can't allocate memory" in str(error).lower() or type(error).__name__ == "OutOfMemoryError"


def _raised_at(error: BaseException) -> Optional[Where]:
    """The innermost frame of the user's code in the exception's traceback."""
    from nnlint.graph.loading import is_user_file

    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if is_user_file(frame.filename):
            found = (frame.filename, frame.lineno or 1, 1)
    return found

