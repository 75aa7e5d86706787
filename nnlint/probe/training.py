"""Optimizer steps on a fixed batch, with one device synchronisation per step.

Facts about parameters stay on the device until the end; per step only the loss, the accuracy and
the regularization terms are read back (to stop early).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union, cast

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.probe.data import Args, LossValue
from nnlint.probe.stats import DROPOUTS

RATIO_STEPS = (3, 10)  # update ratios are kept for steps 3..10 (the first steps of Adam are not a signal)


class Adam:
    """Plain Adam (Kingma & Ba) with foreach ops, for nnlint's own steps.

    torch.optim's step() imports torch._dynamo on first use, which costs seconds of start-up that a
    short probe cannot afford; the update is the same as torch.optim.Adam without weight decay."""

    def __init__(
        self,
        params: Sequence[nn.Parameter],
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.param_groups = [{"params": self.params, "lr": lr}]
        self.lr, self.betas, self.eps, self.steps = lr, betas, eps, 0
        self.first = [torch.zeros_like(p) for p in self.params]
        self.second = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients."""
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        chosen = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not chosen:
            return
        self.steps += 1
        beta1, beta2 = self.betas
        params: List[torch.Tensor] = [self.params[i] for i in chosen]
        grads = cast(List[torch.Tensor], [self.params[i].grad for i in chosen])  # chosen: grad is not None
        first, second = [self.first[i] for i in chosen], [self.second[i] for i in chosen]
        torch._foreach_lerp_(first, grads, 1 - beta1)
        torch._foreach_mul_(second, beta2)
        torch._foreach_addcmul_(second, grads, grads, 1 - beta2)
        denominator = torch._foreach_sqrt(second)
        torch._foreach_div_(denominator, (1 - beta2**self.steps) ** 0.5)
        torch._foreach_add_(denominator, self.eps)
        torch._foreach_addcdiv_(params, first, denominator, -self.lr / (1 - beta1**self.steps))


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
    budget_used: float = 0.0  # seconds charged to the time budget (see _spent)
    had_grad: Set[int] = field(default_factory=set)  # indexes into params
    nonzero: List[int] = field(default_factory=list)  # of the `zero` parameters: those that got a non-zero gradient
    changed: List[Optional[bool]] = field(default_factory=list)  # after step 1; None without a gradient at step 1
    ratios: Dict[int, List[float]] = field(default_factory=dict)  # tracked param index -> ratio per step 3..10
    first_ratios: Dict[int, float] = field(default_factory=dict)  # tracked param index -> ratio of step 1


Measure = Callable[[Any, LossValue], Tuple[Optional[torch.Tensor], Optional[torch.Tensor], Optional[torch.Tensor]]]


def train(
    model: nn.Module,
    params: Sequence[nn.Parameter],
    optimizer: Union[torch.optim.Optimizer, Adam],
    step_inputs: Args,
    loss: Callable[[Any], LossValue],
    measure: Measure,
    max_steps: int,
    budget: float,
    done: Optional[Callable[[List[StepResult]], bool]] = None,
    dropout: bool = True,
    tracked: Sequence[int] = (),
    zero: Sequence[int] = (),
    min_steps: int = 1,
) -> TrainLog:
    """Run up to `max_steps` steps (stopping when `done` says so or the time budget is spent).

    `measure(output, loss)` returns device scalars (accuracy, regularization term, data term), any of them None.
    Whether the first step changed each parameter is kept for all; update ratios (steps 3-10) for the
    `tracked` ones; whether the gradient was ever non-zero for the `zero` ones (zero at step 0). The budget
    never stops it before `min_steps` (a zero-initialised layer needs a step or two to pass gradients on).
    Non-finite gradients show up as a non-finite loss one step later, so they cost no extra check.
    """
    log = TrainLog()
    started, started_cpu = time.perf_counter(), time.process_time()
    device = params[0].device if params else torch.device("cpu")
    nonzero = [torch.zeros((), dtype=torch.bool, device=device) for _ in zero]  # device flags: no host copies
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
        log.had_grad.update(i for i, p in enumerate(params) if p.grad is not None)
        watched = [(j, i) for j, i in enumerate(zero) if params[i].grad is not None]
        if watched:
            norms = torch._foreach_norm(cast(List[torch.Tensor], [params[i].grad for _, i in watched]))
            for (j, _), norm in zip(watched, norms):
                nonzero[j] = nonzero[j] | (norm > 0)
        if number == 1:
            fingerprint = _fingerprint(params)
            pushed = (
                torch.stack(
                    [
                        p.grad.detach().abs().sum().float() > 0
                        if p.grad is not None
                        else torch.zeros((), dtype=torch.bool, device=device)
                        for p in params
                    ]
                )
                if params
                else None
            )
        measured = list(tracked) if number == 1 or RATIO_STEPS[0] <= number <= RATIO_STEPS[1] else []
        before = [params[i].detach().clone() for i in measured]
        optimizer.step()
        if number == 1 and params:
            # None where the first step had no gradient to apply: not moving is then expected
            changed = torch.stack([(_fingerprint(params) != fingerprint).any(0), cast(torch.Tensor, pushed)])
        if measured:
            after = [params[i].detach() for i in measured]
            delta = torch.stack(torch._foreach_norm(torch._foreach_sub(after, before)))
            ratios.append(delta / torch.stack(torch._foreach_norm(after)).clamp_min(1e-30))
        extras = [accuracy, reg, data]
        total = value.total.detach().float().reshape(1)
        pieces = [total, torch.isfinite(total).float()] + [
            e.detach().float().reshape(1) for e in extras if e is not None
        ]
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
        if _spent(started, started_cpu) > budget and number >= min_steps:
            log.stopped = "budget"
            break
    else:
        log.stopped = "steps"
    _read_back(log, torch.stack(nonzero) if nonzero else torch.zeros(0, device=device), zero, changed, ratios, tracked)
    log.seconds = time.perf_counter() - started
    log.budget_used = _spent(started, started_cpu)
    return log


def _spent(wall_start: float, cpu_start: float) -> float:
    """Seconds charged to the budget: wall time, but no more than the CPU time this process used, so that a
    machine busy with other work does not cut the steps short (results then depend on the load)."""
    return min(time.perf_counter() - wall_start, time.process_time() - cpu_start)


def _fingerprint(params: Sequence[nn.Parameter]) -> torch.Tensor:
    """[3, n]: sum, norm and the sum of every other element of every parameter (a step that changes a parameter
    changes these; the partial sum catches steps whose gradient sums to zero, as a scale-invariant layer's does:
    a BatchNorm scale followed by another BatchNorm)."""
    values = [p.detach() for p in params]
    return torch.stack(
        [
            torch.stack([v.sum().float() for v in values]),
            torch.stack(torch._foreach_norm(values)).float(),
            torch.stack([v.reshape(-1)[::2].sum().float() for v in values]),
        ]
    )


def _read_back(
    log: TrainLog,
    nonzero: torch.Tensor,
    zero: Sequence[int],
    changed: Optional[torch.Tensor],
    ratios: List[torch.Tensor],
    tracked: Sequence[int],
) -> None:
    """Per-parameter facts kept on the device, read in one synchronisation."""
    tail = [nonzero.float()] + ([changed.float()] if changed is not None else []) + ratios
    flat = torch.cat([t.reshape(-1) for t in tail]).tolist() if any(t.numel() for t in tail) else []
    log.nonzero = [i for i, flag in zip(zero, flat[: len(zero)]) if flag]
    offset = len(zero)
    if changed is not None:
        count = changed.shape[1]
        moved, pushed = flat[offset : offset + count], flat[offset + count : offset + 2 * count]
        log.changed = [bool(m) if g else None for m, g in zip(moved, pushed)]
        offset += changed.numel()
    width = len(tracked)
    rows = [flat[offset + k * width : offset + (k + 1) * width] for k in range(len(ratios))]
    first, later = (rows[0], rows[1:]) if rows else ([], [])
    log.ratios = {index: [row[j] for row in later] for j, index in enumerate(tracked)}
    log.first_ratios = {index: first[j] for j, index in enumerate(tracked) if j < len(first)}


def median(values: List[float]) -> Optional[float]:
    """The median of a non-empty list, else None."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
