"""Optimizer steps after step 0: ten with the caller's optimizer (param groups, update ratios, regularization),
then nnlint's Adam on a few samples (the overfit test, gradients over more steps, parameters that do not move)."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from torch import nn

from nnlint.probe import data, numerics, overfit_targets
from nnlint.probe.context import ProbeContext
from nnlint.probe.facts import Facts, NonFinite, OverfitResult
from nnlint.probe.failures import as_aborted
from nnlint.probe.first_step import regularization_terms
from nnlint.probe.setup import Setup
from nnlint.probe.training import RATIO_STEPS, Adam, TrainLog, median, train
from nnlint.rule import Need
from nnlint.rules.nn101_cannot_overfit_batch import CannotOverfitBatch


def user_optimizer(setup: Setup, ctx: ProbeContext, params: List[Tuple[str, nn.Parameter]]) -> None:
    """Ten steps with the caller's optimizer on the full batch: are all parameters in it, do they move, how fast."""
    facts, optimizer = ctx.facts, setup.optimizer
    if optimizer is None:
        return
    grouped = {id(p): float(g.get("lr", 0.0)) for g in optimizer.param_groups for p in g["params"]}
    for facts_p, (_, param) in zip(facts.params, params):
        facts_p.in_optimizer = id(param) in grouped
        facts_p.lr = grouped.get(id(param))
    args = setup.batches.get(setup.batch)
    targets = setup.targets_used
    members = [p for _, p in params if id(p) in grouped]
    if not members:
        return
    log = train(
        setup.model,
        members,
        optimizer,
        args,
        _loss_of(setup, targets),
        _measure(setup, None, targets, facts.regularization is not None),
        RATIO_STEPS[1],
        setup.budget / 2,
        tracked=range(len(members)),
    )
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
        facts_p.first_update_ratio = log.first_ratios.get(i)
    _note_regularization(facts, log)
    _note_nonfinite_training(setup, ctx, log, args, [p for _, p in params], "your optimizer")


def own_optimizer(
    setup: Setup,
    ctx: ProbeContext,
    params: List[Tuple[str, nn.Parameter]],
    output: Any,
    restore: Callable[[], None] = lambda: None,
) -> None:
    """Adam on a few samples with dropout off: the overfit test, gradients over more steps, and (without the
    caller's optimizer) whether a step changes every parameter. Growth of regularization is judged only with
    the caller's optimizer: while overfitting, the data term falls towards zero by design.

    The overfit test tries each learning rate of NN101's `lrs` in turn (restoring the weights before each)
    until one fits; the first run also measures the facts above. `restore` puts the initial weights back."""
    facts = ctx.facts
    overfit = setup.needs(Need.OVERFIT) and setup.task is not None
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
    targets = data.slice_targets(setup.targets_used, n)
    if setup.targets is None and overfit:
        reachable = overfit_targets.reachable(setup.task, data.slice_targets(output, n), setup.generator(2))
        if reachable is None:
            overfit = False
            facts.overfit = OverfitResult(
                "inconclusive", "the model's outputs are the same for every sample at initialisation: nothing to fit"
            )
        else:
            targets = reachable
    lrs = [float(lr) for lr in ctx.option(CannotOverfitBatch, "lrs")] or [1e-3]
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

    def done_or_stuck(steps) -> bool:  # the sweep's later settings stop at a plateau: the first ran its course
        return done(steps) or _plateaued([s.loss for s in steps])

    def attempt(lr: float, budget: float, first: bool) -> TrainLog:
        return train(
            setup.model,
            trainable,
            Adam(trainable, lr=lr),
            args,
            _loss_of(setup, targets),
            _measure(setup, setup.task if overfit else None, targets, False),
            max(max_steps, minimum) if overfit else minimum,
            budget,
            done if first else done_or_stuck,
            dropout=False,
            zero=zero if first else (),
            min_steps=minimum,
        )

    log = attempt(lrs[0], setup.budget, first=True)
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
    _note_nonfinite_training(setup, ctx, log, args, trainable, f"Adam (lr {lrs[0]:g}) on {n} samples")
    if not overfit:
        return
    tried = [_overfit_result(log, n, lrs[0], fraction)]
    spent = log.budget_used
    floor = None
    if setup.targets is not None and facts.loss is not None:
        floor = overfit_targets.loss_floor(setup.loss_fn, facts.loss.output_range, targets)
    if floor is not None and tried[0].status != "passed" and floor[0] > fraction * tried[0].initial_loss:
        tried[0].status, tried[0].reason, tried[0].floor = "failed", "loss floor", floor[1]
        tried[0].tried = [(lrs[0], "failed", tried[0].best_loss)]
        facts.overfit = tried[0]
        return
    for lr in lrs[1:]:
        if tried[-1].status == "passed" or tried[0].reason.startswith("the loss became NaN"):
            break
        if spent >= setup.budget:
            tried.append(OverfitResult("inconclusive", "the time budget ran out before it could run", n, lr=lr))
            continue
        restore()
        log = attempt(lr, setup.budget - spent, first=False)
        _fail_on_error(log)
        spent += log.budget_used
        result = _overfit_result(log, n, lr, fraction)
        if log.stopped == "nonfinite":  # too large a step for this model: not a bug, and no setting that fits
            result.status, result.reason = "failed", "the loss became NaN/Inf at this learning rate"
        tried.append(result)
    facts.overfit = _best(tried)


def _best(tried: List[OverfitResult]) -> OverfitResult:
    """The sweep's outcome: the first setting that fits; else inconclusive when any setting came near or was
    still falling; failed only when every setting plateaued away from the criterion. Lists what was tried."""
    summary = [(r.lr, r.status, r.best_loss) for r in tried]
    passed = next((r for r in tried if r.status == "passed"), None)
    if passed is not None:
        chosen = passed
    else:
        open_ = [r for r in tried if r.status != "failed"]
        chosen = open_[0] if open_ else min(tried, key=lambda r: r.best_loss / max(r.initial_loss, 1e-30))
    chosen.tried = summary
    return chosen


def _measure(setup: Setup, task: Optional[str], targets: Any, with_reg: bool):
    def measure(output: Any, value: data.LossValue):
        accuracy = data.accuracy(task, setup.loss_fn, output, targets) if task is not None else None
        reg = regularization_terms(setup, value) if with_reg else None
        return accuracy, (reg[0] if reg else None), (reg[1] if reg else None)

    return measure


def _fits(steps, fraction: float) -> bool:
    last = steps[-1]
    return last.loss <= fraction * steps[0].loss and (last.accuracy is None or last.accuracy >= 1.0)


def _overfit_result(log: TrainLog, n: int, lr: float, fraction: float) -> OverfitResult:
    losses = [s.loss for s in log.steps]
    result = OverfitResult(samples=n, steps=len(losses), seconds=log.seconds, losses=losses, lr=lr)
    if not losses:
        result.status, result.reason = "inconclusive", "no step ran"
        return result
    result.initial_loss, result.final_loss, result.best_loss = losses[0], losses[-1], min(losses)
    result.accuracy = log.steps[-1].accuracy
    near = result.best_loss <= NEAR * fraction * result.initial_loss
    if log.stopped == "fit" and _fits(log.steps, fraction):
        result.status = "passed"
    elif log.stopped == "nonfinite":
        result.status, result.reason = "inconclusive", "the loss became NaN/Inf (reported as NN317)"
    elif near:
        result.status, result.reason = "inconclusive", f"the loss came within {NEAR:g}x of the criterion"
    elif _plateaued(losses):
        result.status, result.reason = "failed", "plateau"
    elif log.stopped == "steps":
        # Precision first: a loss still falling at the step limit is a slow learner, not a broken one.
        result.status, result.reason = "inconclusive", f"the loss was still falling after {len(losses)} steps"
    else:
        result.status = "inconclusive"
        result.reason = f"the time budget ran out after {len(losses)} steps while the loss was still falling"
    return result


NEAR = 2.0  # a best loss within this factor of the criterion is "near": inconclusive, never a failure


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
        raise as_aborted(log.error, "a training step")


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
