"""Synthetic inputs and targets per task, the loss to train with, and what a loss at chance level is."""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from nnlint.config import InputSpec
from nnlint.graph import inputs as input_plans

TASKS = ("multiclass", "binary", "multilabel", "regression")
# torch losses by class name -> the task their targets imply
LOSS_TASKS = {
    "CrossEntropyLoss": "multiclass",
    "NLLLoss": "multiclass",
    "BCEWithLogitsLoss": "binary",
    "BCELoss": "binary",
    "MSELoss": "regression",
    "L1Loss": "regression",
    "SmoothL1Loss": "regression",
    "HuberLoss": "regression",
}
REGULARIZATION_WORDS = ("reg", "l1", "l2", "decay", "penalty")

Args = Tuple[Tuple[Any, ...], Dict[str, Any]]  # positional and keyword arguments of forward


class UsageProblem(ValueError):
    """The probe cannot be set up as asked (e.g. an unknown task); the message says what to pass instead."""


def load_loss(dotted: str) -> Callable:
    """An instance of the loss class at a dotted path such as `torch.nn.CrossEntropyLoss`."""
    module_name, _, name = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        return cls()
    except Exception as error:  # user code: anything can be raised
        raise UsageProblem(f"cannot build the loss `{dotted}()`: {type(error).__name__}: {error}") from None


def task_for(task: Optional[str], loss_fn: Optional[Callable], num_classes: Optional[int]) -> Optional[str]:
    """The task: as given, else implied by a torch loss class or by `num_classes`; None means "unknown"."""
    if task is not None:
        if task not in TASKS:
            raise UsageProblem(f"task must be one of {', '.join(TASKS)}, not {task!r}")
        return task
    if loss_fn is not None:
        return LOSS_TASKS.get(type(loss_fn).__name__)
    return "multiclass" if num_classes is not None else None


def default_loss(task: Optional[str]) -> Optional[nn.Module]:
    """The loss a task trains with by default; None (a surrogate loss) without a task."""
    return {
        "multiclass": nn.CrossEntropyLoss(),
        "binary": nn.BCEWithLogitsLoss(),
        "multilabel": nn.BCEWithLogitsLoss(),
        "regression": nn.MSELoss(),
    }.get(task or "")


def is_torch_loss(loss_fn: Any) -> bool:
    """Whether `loss_fn` is one of torch.nn's loss modules (they take logits, not the model's raw output)."""
    return isinstance(loss_fn, nn.Module) and type(loss_fn).__module__.startswith("torch.nn.modules.loss")


def applies_log_softmax(loss_fn: Any) -> bool:
    """CrossEntropyLoss applies log-softmax to its input itself."""
    return isinstance(loss_fn, nn.CrossEntropyLoss)


def float_outputs(output: Any) -> List[torch.Tensor]:
    """Every floating-point tensor in a model's output (tensor, tuple, list, dict or ModelOutput)."""
    if isinstance(output, torch.Tensor):
        return [output] if output.is_floating_point() else []
    if isinstance(output, dict):
        return [t for value in output.values() for t in float_outputs(value)]
    if isinstance(output, (list, tuple)):
        return [t for value in output for t in float_outputs(value)]
    return []


def logits_of(output: Any) -> Optional[torch.Tensor]:
    """The tensor a task's loss applies to: the output itself, its `logits`, or its first float tensor."""
    if isinstance(output, dict) and isinstance(output.get("logits"), torch.Tensor):
        return output["logits"]
    found = float_outputs(output)
    return found[0] if found else None


def make_targets(task: Optional[str], output: Any, generator: torch.Generator) -> Any:
    """Random targets for a batch of outputs: class indices for multiclass (class dim 1), else shaped like the output."""
    if task is None:  # surrogate: random regression targets for every float output
        return [torch.randn(t.shape, generator=generator).to(t.device, t.dtype) for t in float_outputs(output)]
    logits = logits_of(output)
    if logits is None:
        raise ValueError("the model's output holds no float tensor to compute a loss on")
    if task == "multiclass":
        classes = logits.shape[1] if logits.dim() >= 2 else 1
        shape = (logits.shape[0],) + tuple(logits.shape[2:])
        return torch.randint(0, max(classes, 1), shape, generator=generator).to(logits.device)
    if task in ("binary", "multilabel"):
        return torch.randint(0, 2, logits.shape, generator=generator).to(logits.device, logits.dtype)
    return torch.randn(logits.shape, generator=generator).to(logits.device, logits.dtype)


def slice_targets(targets: Any, n: int) -> Any:
    """The first `n` targets (dim 0 is the batch)."""
    if isinstance(targets, torch.Tensor):
        return targets[:n]
    if isinstance(targets, (list, tuple)):
        return type(targets)(slice_targets(t, n) for t in targets)
    if isinstance(targets, dict):
        return {k: slice_targets(v, n) for k, v in targets.items()}
    return targets


@dataclass
class LossValue:
    """A loss: the total to backpropagate and, when the loss function reported them, its named parts."""

    total: torch.Tensor
    parts: Optional[Dict[str, torch.Tensor]] = None


def compute_loss(loss_fn: Optional[Callable], task: Optional[str], output: Any, targets: Any) -> LossValue:
    """Apply the loss (or the surrogate: mean squared error against random targets for every float output)."""
    if loss_fn is None:
        terms = [nn.functional.mse_loss(out.float(), t.float()) for out, t in zip(float_outputs(output), targets)]
        return LossValue(torch.stack(terms).sum())
    value = loss_fn(logits_of(output) if is_torch_loss(loss_fn) else output, targets)
    if isinstance(value, dict):
        parts = {str(k): v for k, v in value.items() if isinstance(v, torch.Tensor) and v.numel() == 1}
        total = parts.pop("loss", None)
        if total is None:
            total = torch.stack([v.reshape(()) for v in parts.values()]).sum()
        return LossValue(total.reshape(()), parts)
    if not isinstance(value, torch.Tensor):
        raise UsageProblem(f"the loss function returned {type(value).__name__}, not a tensor or a dict of tensors")
    return LossValue(value.reshape(()) if value.numel() == 1 else value.mean())


def split_parts(parts: Dict[str, torch.Tensor]) -> Tuple[List[str], List[str]]:
    """(regularization term names, data term names) of a loss that reported its parts."""
    reg = [name for name in parts if any(word in name.lower() for word in REGULARIZATION_WORDS)]
    return reg, [name for name in parts if name not in reg]


def accuracy(task: Optional[str], loss_fn: Any, output: Any, targets: Any) -> Optional[torch.Tensor]:
    """Fraction of correct predictions as a device scalar; None for regression and the surrogate."""
    logits = logits_of(output)
    if logits is None or not isinstance(targets, torch.Tensor):
        return None
    if task == "multiclass" and logits.dim() >= 2 and targets.dtype in (torch.int64, torch.int32):
        return (logits.detach().argmax(1) == targets).float().mean()
    if task in ("binary", "multilabel") and logits.shape == targets.shape:
        threshold = 0.5 if isinstance(loss_fn, nn.BCELoss) else 0.0
        return ((logits.detach() > threshold).to(targets.dtype) == targets).float().mean()
    return None


def probability_rows(logits: torch.Tensor) -> torch.Tensor:
    """Device bool: every row along dim 1 is non-negative and sums to 1 (softmax already applied)."""
    if logits.dim() < 2 or logits.shape[1] < 2:
        return torch.zeros((), dtype=torch.bool, device=logits.device)
    x = logits.detach().float()
    return (x.min() >= 0) & ((x.sum(1) - 1).abs().max() < 1e-3)


def chance_loss(
    task: Optional[str], loss_fn: Any, logits: torch.Tensor, targets: Any, user_targets: bool
) -> Tuple[Optional[float], str]:
    """(the loss a freshly initialised model should start near, why) or (None, why it is not known)."""
    if getattr(loss_fn, "reduction", "mean") != "mean":
        return None, f"the loss uses reduction={loss_fn.reduction!r}, so its scale depends on the batch"
    name = type(loss_fn).__name__
    if task == "multiclass" and name in ("CrossEntropyLoss", "NLLLoss") and logits.dim() >= 2:
        classes = logits.shape[1]
        return math.log(classes), f"ln({classes}) = {math.log(classes):.4g}: uniform predictions over {classes} classes"
    if task in ("binary", "multilabel") and name in ("BCEWithLogitsLoss", "BCELoss"):
        if not user_targets:
            return math.log(2), "ln(2) = 0.6931: predicting 0.5 for random 0/1 labels"
        prior = float(targets.float().mean())
        if prior <= 0.0 or prior >= 1.0:
            return None, "your targets are all of one class"
        entropy = -(prior * math.log(prior) + (1 - prior) * math.log(1 - prior))
        return (
            entropy,
            f"{entropy:.4g}: the entropy of your labels' prior ({prior:.3g} positive), the loss of predicting the prior",
        )
    return None, "the chance level is known for CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss and BCELoss"


# --- inputs ------------------------------------------------------------------------------------

_PREFERRED_SIZES = (32, 28, 64, 16, 96, 128)  # cheap first: the probe runs real compute


def sizes_to_try(plan: input_plans.InputPlan) -> List[int]:
    """The plan's free sizes, cheapest likely-working ones first."""
    return sorted(
        plan.sizes, key=lambda s: (_PREFERRED_SIZES.index(s) if s in _PREFERRED_SIZES else len(_PREFERRED_SIZES), s)
    )


def materialize(
    meta: Sequence[torch.Tensor], ranges: Sequence[Tuple[Optional[float], Optional[float]]], generator: torch.Generator
) -> Tuple[torch.Tensor, ...]:
    """Random CPU tensors with the shapes and dtypes of meta tensors: normal floats, integers in their range."""
    made = []
    for tensor, (low, high) in zip(meta, ranges):
        if tensor.dtype == torch.bool:
            made.append(torch.randint(0, 2, tensor.shape, generator=generator).bool())
        elif tensor.is_floating_point():
            if low is not None and high is not None:
                value = torch.rand(tensor.shape, generator=generator) * (high - low) + low
            else:
                value = torch.randn(tensor.shape, generator=generator)
            made.append(value.to(tensor.dtype))
        else:
            lo, hi = int(low if low is not None else 0), int(high if high is not None else 2)
            made.append(torch.randint(lo, max(hi, lo + 1), tensor.shape, generator=generator).to(tensor.dtype))
    return tuple(made)


def ranges_for(
    model: nn.Module, specs: Optional[Sequence[InputSpec]], count: int
) -> List[Tuple[Optional[float], Optional[float]]]:
    """Value ranges per input: as configured, or token ids below the first embedding's size."""
    if specs is not None:
        return [(spec.low, spec.high) for spec in specs]
    embedding = next((m for m in model.modules() if isinstance(m, nn.Embedding)), None)
    high = float(embedding.num_embeddings) if embedding is not None else None
    return [(0.0, high)] * count


class Batches:
    """Model inputs for any number of samples: the user's batch (sliced or extended), or synthetic ones."""

    def __init__(
        self,
        device: torch.device,
        generator: torch.Generator,
        make: Optional[Callable[[int], Tuple[torch.Tensor, ...]]] = None,
        user: Optional[Args] = None,
        split: Optional[Callable[[Tuple[torch.Tensor, ...]], Args]] = None,
    ) -> None:
        self.device, self.generator, self._make, self.user = device, generator, make, user
        # made tensors -> (positional, keyword) arguments: configured inputs with a `name` are passed by keyword
        self._split = split or (lambda tensors: (tensors, {}))
        self.batch = _batch_size(user) if user is not None else 0

    def get(self, n: int) -> Args:
        """Inputs for `n` samples on the probe's device."""
        if self.user is None:
            assert self._make is not None, "Batches needs a maker or the user's inputs"
            return self._split(tuple(t.to(self.device) for t in self._make(n)))
        args, kwargs = self.user

        def fit(v: Any) -> Any:
            return _resize(v, self.batch, n, self.generator)

        return tuple(fit(a) for a in args), {k: fit(v) for k, v in kwargs.items()}

    def shapes(self) -> List[Tuple[int, ...]]:
        """Shapes of the tensors of a two-sample batch (to learn the non-batch dimensions)."""
        args, kwargs = self.get(2)
        return [tuple(v.shape) for v in list(args) + list(kwargs.values()) if isinstance(v, torch.Tensor)]

    def extra(self, n: int) -> Args:
        """`n` samples beyond the main batch (new synthetic ones, or ones drawn with the user's batch statistics)."""
        if self.user is None:
            return self.get(n)
        args, kwargs = self.get(self.batch + n)

        def cut(v: Any) -> Any:
            return v[self.batch :] if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == self.batch + n else v

        return tuple(cut(a) for a in args), {k: cut(v) for k, v in kwargs.items()}

    def perturbed(self, args: Args, sample: int) -> Args:
        """A copy of `args` in which only sample `sample` has new random values."""

        def change(value: Any) -> Any:
            if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.shape[0] != _batch_size(args):
                return value
            value = value.clone()
            if value.is_floating_point():
                value[sample] = torch.randn(value[sample].shape, generator=self.generator).to(
                    value.device, value.dtype
                ) * (value.float().std() + 1e-3)
            elif value.dtype != torch.bool:  # ids within each position's range over the batch (columns of ids)
                low, high = value.min(0).values, value.max(0).values
                draw = torch.rand(value[sample].shape, generator=self.generator).to(value.device)
                value[sample] = (low + (draw * (high - low + 1).float()).long().clamp_max(high - low)).to(value.dtype)
            else:
                value[sample] = ~value[sample]
            return value

        return tuple(change(a) for a in args[0]), {k: change(v) for k, v in args[1].items()}


def _batch_size(args: Args) -> int:
    for value in list(args[0]) + list(args[1].values()):
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            return value.shape[0]
    return 0


def _resize(value: Any, batch: int, n: int, generator: torch.Generator) -> Any:
    """The first `n` samples of a user tensor; beyond its batch, random samples with its statistics."""
    if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.shape[0] != batch:
        return value
    if n <= batch:
        return value[:n]
    extra_shape = (n - batch,) + tuple(value.shape[1:])
    if value.is_floating_point():
        mean = value.float().mean(0)
        std = value.float().std(0, unbiased=False) if batch > 1 else torch.ones_like(mean)
        extra = (torch.randn(extra_shape, generator=generator).to(value.device) * std + mean).to(value.dtype)
    elif value.dtype == torch.bool:
        extra = torch.randint(0, 2, extra_shape, generator=generator).to(value.device).bool()
    else:  # ids: whole samples of the user's batch again, so every position keeps its own valid range
        rows = torch.randint(0, batch, (n - batch,), generator=generator).to(value.device)
        extra = value[rows]
    return torch.cat([value, extra])
