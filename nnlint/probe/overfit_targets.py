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

from typing import Any, Optional

import torch

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
    """Each sample's target is the initial output of another sample; None when the outputs do not differ
    between samples (a dead or zero-initialised output layer): there is then nothing reachable to fit."""
    if outputs.dim() == 0 or outputs.shape[0] < 2:
        return None
    rolled = outputs.roll(1, dims=0)
    spread = float((rolled - outputs).abs().mean())
    return rolled if spread > 1e-6 * max(float(outputs.abs().mean()), 1e-6) else None
