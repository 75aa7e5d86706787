"""Optimizer steps on a fixed batch, with one device synchronisation per step.

Per step it keeps (on the device) which parameters got a non-zero gradient and, over the first ten
steps, ||delta theta|| / ||theta|| per parameter; per step it reads back only the loss, the accuracy,
whether gradients were finite and the regularization terms.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.probe.data import Args, LossValue
from nnlint.probe.stats import DROPOUTS

RATIO_STEPS = (3, 10)  # update ratios are kept for steps 3..10 (the first steps of Adam are not a signal)


class NoDropout(TorchFunctionMode):
    """Every dropout call (module or functional) returns its input unchanged."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in DROPOUTS:
            return args[0] if args else kwargs.get("input")
        return func(*args, **kwargs)


@dataclass
class StepResult:
    """What one step read back."""

    loss: float
    accuracy: Optional[float]
    finite: bool
    regularization: Optional[float] = None
    data: Optional[float] = None


@dataclass
class TrainLog:
    """A training run: per-step values, why it stopped, and per-parameter facts read back at the end."""

    steps: List[StepResult] = field(default_factory=list)
    stopped: str = ""  # fit | steps | budget | nonfinite | error
    error: Optional[BaseException] = None
    seconds: float = 0.0
    had_grad: Set[int] = field(default_factory=set)  # indexes into params
    nonzero: List[bool] = field(default_factory=list)
    changed: List[bool] = field(default_factory=list)  # after step 1
    ratios: Dict[int, List[float]] = field(default_factory=dict)  # tracked param index -> ratio per step 3..10


Measure = Callable[[Any, LossValue], Tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]]


def train(
    model: nn.Module,
    params: Sequence[nn.Parameter],
    optimizer: torch.optim.Optimizer,
    step_inputs: Args,
    loss: Callable[[Any], LossValue],
    measure: Measure,
    max_steps: int,
    budget: float,
    done: Optional[Callable[[List[StepResult]], bool]] = None,
    dropout: bool = True,
    tracked: Sequence[int] = (),
) -> TrainLog:
    """Run up to `max_steps` steps (stopping when `done` says so or the time budget is spent).

    `measure(output, loss)` returns device scalars (accuracy, regularization term, data term), any of them None.
    Update ratios are kept for the `tracked` parameters; whether a step changed a parameter, for all.
    """
    log = TrainLog()
    started = time.perf_counter()
    nonzero = torch.zeros(len(params), dtype=torch.bool, device=params[0].device) if params else None
    ratios: List[torch.Tensor] = []
    changed: Optional[torch.Tensor] = None
    args, kwargs = step_inputs
    for number in range(1, max_steps + 1):
        try:
            with contextlib.nullcontext() if dropout else NoDropout():
                output = model(*args, **kwargs)
                value = loss(output)
            accuracy, reg, data = measure(output, value)
            optimizer.zero_grad(set_to_none=True)
            value.total.backward()
        except Exception as error:  # user code; the caller turns it into a finding
            log.stopped, log.error = "error", error
            break
        grads = [p.grad for p in params]
        present = [i for i, g in enumerate(grads) if g is not None]
        log.had_grad.update(present)
        pieces = [value.total.detach().float().reshape(1)]
        finite_flag = torch.isfinite(value.total.detach()).reshape(1)
        if present:
            norms = torch.stack(torch._foreach_norm([grads[i] for i in present]))
            finite_flag = finite_flag & torch.isfinite(norms).all().reshape(1)
            nonzero[present] |= norms > 0
        watched = list(range(len(params))) if number == 1 else (list(tracked) if RATIO_STEPS[0] <= number <= RATIO_STEPS[1] else [])
        before = [params[i].detach().clone() for i in watched]
        optimizer.step()
        if watched:
            after = [params[i].detach() for i in watched]
            delta = torch.stack(torch._foreach_norm(torch._foreach_sub(after, before)))
            if number == 1:
                changed = delta > 0
            else:
                ratios.append(delta / torch.stack(torch._foreach_norm(after)).clamp_min(1e-30))
        extras = [accuracy, reg, data]
        pieces += [finite_flag.float()] + [e.detach().float().reshape(1) for e in extras if e is not None]
        values = torch.cat(pieces).tolist()  # the one synchronisation of this step
        it = iter(values[2:])
        read = [next(it) if e is not None else None for e in extras]
        result = StepResult(values[0], read[0], bool(values[1]), read[1], read[2])
        log.steps.append(result)
        if not result.finite:
            log.stopped = "nonfinite"
            break
        if done is not None and done(log.steps):
            log.stopped = "fit"
            break
        if time.perf_counter() - started > budget:
            log.stopped = "budget"
            break
    else:
        log.stopped = "steps"
    tail: List[torch.Tensor] = []
    if nonzero is not None:
        tail.append(nonzero.float())
    if changed is not None:
        tail.append(changed.float())
    tail += ratios
    if tail:
        flat = torch.cat(tail).tolist()
        count = len(params)
        log.nonzero = [bool(v) for v in flat[:count]]
        offset = count
        if changed is not None:
            log.changed = [bool(v) for v in flat[offset:offset + count]]
            offset += count
        width = len(tracked)
        rows = [flat[offset + k * width: offset + (k + 1) * width] for k in range(len(ratios))]
        log.ratios = {index: [row[j] for row in rows] for j, index in enumerate(tracked)}
    log.seconds = time.perf_counter() - started
    return log


def median(values: List[float]) -> Optional[float]:
    """The median of a non-empty list, else None."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
