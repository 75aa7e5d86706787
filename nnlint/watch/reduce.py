"""Several processes (DDP, FSDP): each rank measures its own replica; figures are combined on sampled steps only.

Activation statistics are combined so that a unit is dead only when it is dead on every rank's data; the
loss window is averaged; findings are gathered so that rank 0 reports each once, with the ranks that saw it.
Every function is a no-op in a single process, and all ranks call them at the same sampled steps.
"""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Sequence, Tuple

import torch

from nnlint.probe.stats import Recorder
from nnlint.types import Finding


def world() -> Tuple[int, int]:
    """(rank, number of processes): (0, 1) unless torch.distributed is initialised with several."""
    dist = torch.distributed
    if not dist.is_available() or not dist.is_initialized():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def active() -> bool:
    """Whether figures must be combined across processes."""
    return world()[1] > 1


def sum_(values: torch.Tensor) -> torch.Tensor:
    """The sum over ranks of a tensor (the tensor itself in one process)."""
    if not active():
        return values
    values = values.clone()
    torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.SUM)
    return values


def recorder(rec: Recorder) -> None:
    """Combine every rank's activation statistics in place: alive/touched by OR, counts and moments by sum."""
    if not active():
        return
    keys = sorted(rec.sites)
    outputs = sorted(rec.outputs)
    gathered = gather_objects((keys, outputs))
    if any(g != (keys, outputs) for g in gathered):
        return  # the ranks ran different layers: each judges its own statistics
    sites = [rec.sites[k] for k in keys]
    flags = [t for s in sites for t in (s.alive, s.touched) if t is not None]
    if flags:
        merged = _reduce([f.float() for f in flags], torch.distributed.ReduceOp.MAX)
        it = iter(merged)
        for site in sites:
            if site.alive is not None:
                site.alive = next(it) > 0
            if site.touched is not None:
                site.touched = next(it) > 0
    sums: List[torch.Tensor] = []
    for site in sites:
        sums += [site.moments.double() if site.moments is not None else torch.zeros(2, dtype=torch.float64)]
        if site.saturated is not None:
            sums.append(site.saturated.double())
        sums.append(torch.tensor([site.samples, site.elements, site.count], dtype=torch.float64))
    sums += [moments.double() for moments in (rec.outputs[k].moments for k in outputs) if moments is not None]
    sums.append(torch.tensor([rec.outputs[k].count for k in outputs], dtype=torch.float64))
    it = iter(_reduce(sums, torch.distributed.ReduceOp.SUM))
    for site in sites:
        site.moments = next(it)
        if site.saturated is not None:
            site.saturated = next(it)
        samples, elements, count = next(it).tolist()
        site.samples, site.elements, site.count = int(samples), int(elements), int(count)
    for k in outputs:
        if rec.outputs[k].moments is not None:
            rec.outputs[k].moments = next(it)
    for k, count in zip(outputs, next(it).tolist()):
        rec.outputs[k].count = int(count)


def gather_objects(value: Any) -> List[Any]:
    """Every rank's `value`, in rank order.

    `torch.distributed.all_gather_object` converts through NumPy, which a CPU-only torch does not require:
    the pickled bytes travel as a padded uint8 tensor instead.
    """
    data = bytearray(pickle.dumps(value))
    device = _collective_device()
    local = torch.frombuffer(data, dtype=torch.uint8).to(device) if data else torch.zeros(0, dtype=torch.uint8)
    size = world()[1]
    lengths = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(size)]
    torch.distributed.all_gather(lengths, torch.tensor([len(data)], dtype=torch.int64, device=device))
    longest = max(int(n.item()) for n in lengths)
    padded = torch.zeros(longest, dtype=torch.uint8, device=device)
    padded[: len(data)] = local
    buffers = [torch.empty(longest, dtype=torch.uint8, device=device) for _ in range(size)]
    torch.distributed.all_gather(buffers, padded)
    return [pickle.loads(bytes(b[: int(n.item())].cpu().tolist())) for b, n in zip(buffers, lengths)]


def _collective_device() -> torch.device:
    """NCCL moves only CUDA tensors; every other backend takes CPU tensors."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _reduce(tensors: Sequence[torch.Tensor], op) -> List[torch.Tensor]:
    """All-reduce a list of tensors as one flat buffer (on the first tensor's device)."""
    device = tensors[0].device
    flat = torch.cat([t.reshape(-1).to(device, torch.float64) for t in tensors])
    torch.distributed.all_reduce(flat, op=op)
    out, offset = [], 0
    for t in tensors:
        out.append(flat[offset : offset + t.numel()].reshape(t.shape).to(t.dtype))
        offset += t.numel()
    return out


def findings(found: List[Finding]) -> List[Tuple[Finding, List[int]]]:
    """Every rank's findings on rank 0, once each with the ranks that saw it; other ranks get an empty list."""
    rank, size = world()
    if size == 1:
        return [(f, [0]) for f in found]
    gathered = gather_objects(found)
    if rank != 0:
        return []
    merged: Dict[Tuple[str, object], Tuple[Finding, List[int]]] = {}
    for source, items in enumerate(gathered):
        for f in items or []:
            entry = merged.setdefault((f.code, f.location), (f, []))
            if source not in entry[1]:
                entry[1].append(source)
    return list(merged.values())
