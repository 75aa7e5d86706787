"""Batch independence in eval mode: output i must not depend on sample j != i.

Two exact tests on a small batch: the gradient of the middle output with respect to the other samples
is zero, and changing the middle sample leaves the other outputs unchanged. When samples mix, a fingerprint of every
operation's output rows (recorded in both runs) names the first operation whose other rows changed.
"""

from __future__ import annotations

from typing import Any, List, Optional, Set, Tuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.probe.data import Args, Batches, float_outputs
from nnlint.probe.facts import MixingResult
from nnlint.probe.numerics import _op_name
from nnlint.probe.stats import user_frame
from nnlint.types import Location

SIZES = (5, 7, 11, 13, 3)  # batch sizes for the test; the first that no other dimension has is used


class _Fingerprints(TorchFunctionMode):
    """Per operation (in call order): its name, the user's line and [sum, sum of squares] of each output row."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.prints: List[Tuple[str, Optional[Location], torch.Tensor]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if (
            isinstance(result, torch.Tensor)
            and result.is_floating_point()
            and result.dim() >= 1
            and result.shape[0] == self.n
        ):
            rows = result.detach().reshape(self.n, -1).double()
            self.prints.append((_op_name(func), user_frame(), torch.stack([rows.sum(1), (rows * rows).sum(1)], 1)))
        return result


def check(model: nn.Module, batches: Batches, seed: int, avoid: Set[int]) -> MixingResult:
    """Run the two tests at a batch size not in `avoid`; the model is left in eval mode (the caller restores modes)."""
    n = next((size for size in SIZES if size not in avoid), SIZES[0])
    j = n // 2
    args = batches.get(n)
    tensors = [v for v in list(args[0]) + list(args[1].values()) if isinstance(v, torch.Tensor)]
    if not tensors or any(t.dim() == 0 or t.shape[0] != n for t in tensors):
        return MixingResult(reason="not every input has the batch in dimension 0")
    model.eval()
    args = _requiring_grad(args)
    first = _Fingerprints(n)
    outputs = _run(model, args, first, seed, grad=True)
    batched = [o for o in float_outputs(outputs) if o.dim() >= 1 and o.shape[0] == n]
    if not batched:
        return MixingResult(reason="no output keeps the batch in dimension 0")
    if any(n in tuple(o.shape[1:]) for o in batched):
        return MixingResult(reason="an output has a dimension of the batch size, so it may compare samples on purpose")
    others = [i for i in range(n) if i != j]
    evidence: List[torch.Tensor] = []
    floats = [t for t in list(args[0]) + list(args[1].values()) if isinstance(t, torch.Tensor) and t.requires_grad]
    selected = [o for o in batched if o.requires_grad]
    if floats and selected:
        grads = torch.autograd.grad(
            torch.stack([o[j].float().sum() for o in selected]).sum(), floats, allow_unused=True
        )
        for grad in grads:
            if grad is not None:
                evidence.append((grad[others].abs().amax() > 0).reshape(1))
    second = _Fingerprints(n)
    changed = _run(model, batches.perturbed(_detached(args), j), second, seed, grad=False)
    for before, after in zip(batched, [o for o in float_outputs(changed) if o.dim() >= 1 and o.shape[0] == n]):
        a, b = before.detach()[others].double(), after[others].double()
        evidence.append(((a - b).abs().amax() > 1e-5 * (a.abs().amax() + 1e-12)).reshape(1))
    culprit_flags = _culprit_flags(first.prints, second.prints, others)
    values = torch.cat(evidence + culprit_flags).tolist() if evidence else []
    mixed = any(values[: len(evidence)])
    result = MixingResult(checked=True, mixed=mixed, samples=n)
    if mixed:
        flags = values[len(evidence) :]
        index = next((k for k, flag in enumerate(flags) if flag), None)
        if index is not None:
            result.culprit, result.culprit_where = first.prints[index][0], first.prints[index][1]
    return result


def _run(model: nn.Module, args: Args, prints: _Fingerprints, seed: int, grad: bool) -> Any:
    with torch.random.fork_rng(devices=_devices(args)):  # identical random draws in both runs
        torch.manual_seed(seed)
        with torch.set_grad_enabled(grad), prints:
            return model(*args[0], **args[1])


def _devices(args: Args) -> list:
    return sorted(
        {
            t.device.index or 0
            for t in list(args[0]) + list(args[1].values())
            if isinstance(t, torch.Tensor) and t.is_cuda
        }
    )


def _requiring_grad(args: Args) -> Args:
    def prepare(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.detach().clone().requires_grad_(True)
        return value

    return tuple(prepare(a) for a in args[0]), {k: prepare(v) for k, v in args[1].items()}


def _detached(args: Args) -> Args:
    def plain(value: Any) -> Any:
        return value.detach() if isinstance(value, torch.Tensor) else value

    return tuple(plain(a) for a in args[0]), {k: plain(v) for k, v in args[1].items()}


def _culprit_flags(first: list, second: list, others: List[int]) -> List[torch.Tensor]:
    """Per operation: did rows other than the changed sample change? (Empty when the runs differ in length.)"""
    if len(first) != len(second):
        return []
    flags = []
    for (_, _, a), (_, _, b) in zip(first, second):
        if a.shape != b.shape:
            return []
        x, y = a[others], b[others]
        flags.append(((x - y).abs() > 1e-7 * (x.abs() + 1e-12)).any().reshape(1))
    return flags
