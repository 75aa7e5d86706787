"""Synthetic targets for the overfit test that the model's output can reach.

Random regression targets include values a ReLU, softplus or sigmoid output can never produce, and random
per-pixel classes are noise no small dense model memorises: both made correct models fail the test. Here
every target is one the model itself produces or one its output layer can express:
- regression: the model's own initial outputs on the other samples (rolled across the tiny batch), so
  every target lies where this output can go (non-negative after a ReLU, in (0, 1) after a sigmoid...);
  outputs identical for every sample leave nothing reachable to fit: the test is then inconclusive;
- classes and labels: random per sample, and for dense outputs (segmentation) one label per sample and
  channel over all positions rather than per-pixel noise.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional, Tuple

import torch
from torch import nn

from nnlint.probe import data


def reachable(task: Optional[str], output: Any, generator: torch.Generator) -> Any:
    """Targets for a few samples whose (detached) step-0 outputs are `output`; None when none is reachable."""
    logits = data.logits_of(output)
    if task is None or logits is None:
        return None
    if task == "multiclass":
        classes = max(logits.shape[1] if logits.dim() >= 2 else 1, 1)
        per_sample = torch.randint(0, classes, (logits.shape[0],), generator=generator).to(logits.device)
        dense = (logits.shape[0],) + tuple(logits.shape[2:])
        return per_sample.reshape((-1,) + (1,) * (len(dense) - 1)).expand(dense).contiguous()
    if task in ("binary", "multilabel"):
        kept = tuple(logits.shape[:2]) if logits.dim() > 2 else tuple(logits.shape)
        labels = torch.randint(0, 2, kept, generator=generator).to(logits.device, logits.dtype)
        return labels.reshape(kept + (1,) * (logits.dim() - len(kept))).expand(logits.shape).contiguous()
    return _other_samples(logits.detach())


def _other_samples(outputs: torch.Tensor) -> Optional[torch.Tensor]:
    """Each sample's target is the initial output of another sample, except where its own output sits at a
    clamp (exactly 0 after a ReLU, or a value tied across samples: a clamp's bound), which passes no gradient
    to move it; None when the outputs do not differ between samples (a dead or zero-initialised output layer)."""
    if outputs.dim() == 0 or outputs.shape[0] < 2:
        return None
    rolled = outputs.roll(1, dims=0)
    spread = float((rolled - outputs).abs().mean())
    if spread <= 1e-6 * max(float(outputs.abs().mean()), 1e-6):
        return None
    flat = outputs.reshape(outputs.shape[0], -1)
    tied = (flat.unsqueeze(0) == flat.unsqueeze(1)).sum(0) > 1  # per element: another sample has the same value
    clamped = (outputs == 0) | tied.reshape(outputs.shape)
    return torch.where(clamped, outputs, rolled)


# The last op that produced the output, seen through views: its range bounds what the output can reach.
_VIEWS = {"View", "UnsafeView", "Unsqueeze", "Squeeze", "Reshape", "ReshapeAlias", "Clone", "Permute", "Transpose"}
_VIEWS |= {"T", "Select", "Slice", "Expand", "AsStrided", "Contiguous", "Alias"}
_RANGES = {
    "Sigmoid": (0.0, 1.0, "a sigmoid"),
    "Tanh": (-1.0, 1.0, "a tanh"),
    "Relu": (0.0, math.inf, "a ReLU"),
    "Softplus": (0.0, math.inf, "a softplus"),
    "Exp": (0.0, math.inf, "an exp"),
}
_REGRESSION_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)


def output_range(output: torch.Tensor) -> Optional[Tuple[float, float, str]]:
    """(low, high, what) of the squashing op that produced `output` (before it is detached), or None."""
    node = output.grad_fn
    while node is not None:
        name = re.sub(r"Backward\d*$", "", type(node).__name__)
        if name in _RANGES:
            return _RANGES[name]
        if name not in _VIEWS:
            return None
        node = next((fn for fn, _ in node.next_functions if fn is not None), None)
    return None


def loss_floor(loss_fn: Any, bounds: Optional[Tuple[float, float, str]], targets: Any) -> Optional[Tuple[float, str]]:
    """(the lowest loss an output in `bounds` can reach on `targets`, why) for a regression loss; None if not known."""
    if bounds is None or not isinstance(loss_fn, _REGRESSION_LOSSES) or not isinstance(targets, torch.Tensor):
        return None
    if getattr(loss_fn, "reduction", "mean") != "mean" or not targets.is_floating_point():
        return None
    low, high, what = bounds
    nearest = targets.clamp(low, high)
    floor = float(loss_fn(nearest, targets))
    if floor <= 0:
        return None
    outside = float((nearest != targets).float().mean())
    shown = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"[{low:g}, ∞)"
    return floor, (
        f"the output comes from {what}, so it stays in {shown}, but {outside:.0%} of your targets lie outside it "
        f"(from {float(targets.min()):.3g} to {float(targets.max()):.3g}): the loss cannot fall below {floor:.3g}"
    )
