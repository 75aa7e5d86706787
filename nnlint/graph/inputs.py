"""Model inputs: from the configuration, or inferred from the first layer that consumes each argument."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple

import torch
from torch import fx, nn

from nnlint.config import InputSpec

DTYPES = {
    "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64,
    "int64": torch.int64, "int32": torch.int32, "bool": torch.bool,
}
# Sizes tried, in order, for a dimension the first layer does not fix (images first at ImageNet size).
SPATIAL_SIZES = (224, 64, 32, 256, 28, 128, 299, 96, 512, 16)
SEQUENCE_LENGTHS = (16, 64, 128, 8)
VOLUME_SIZES = (16, 32, 8, 64)

Maker = Callable[[int, int], Tuple[torch.Tensor, ...]]  # (batch, free size) -> inputs


@dataclass(frozen=True)
class InputPlan:
    """How to make inputs for a batch size and a free size, and which free sizes to try."""

    make: Maker
    sizes: Tuple[int, ...]
    describe: Callable[[int], str]


def from_specs(specs: Sequence[InputSpec]) -> InputPlan:
    """Inputs exactly as configured; the first dimension is the batch."""

    def make(batch: int, _: int) -> Tuple[torch.Tensor, ...]:
        return tuple(_tensor((batch,) + tuple(spec.shape[1:]), spec) for spec in specs)

    def describe(_: int) -> str:
        return ", ".join(f"{spec.dtype}{list(spec.shape)}" for spec in specs)

    return InputPlan(make, (0,), describe)


def _tensor(shape: Tuple[int, ...], spec: InputSpec) -> torch.Tensor:
    dtype = DTYPES[spec.dtype]
    return torch.empty(shape, dtype=dtype, device="meta")


def infer(model: nn.Module, graph: Optional[fx.Graph]) -> Optional[InputPlan]:
    """Inputs for the required forward arguments, inferred from the layer that first consumes each; None if unknown."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder" and not n.args] if graph is not None else None
    if graph is not None:
        layers = [_first_consumer(model, node) for node in placeholders]
    else:
        layers = [_first_layer(model)]
    if not layers or any(layer is None for layer in layers):
        return None
    makers = [_maker_for(layer) for layer in layers]
    if any(maker is None for maker in makers):
        return None
    sizes = makers[0][1]

    def make(batch: int, size: int) -> Tuple[torch.Tensor, ...]:
        return tuple(maker(batch, size) for maker, _, _ in makers)

    def describe(size: int) -> str:
        return ", ".join(text(size) for _, _, text in makers)

    return InputPlan(make, sizes, describe)


def _first_consumer(model: nn.Module, node: fx.Node) -> Optional[nn.Module]:
    """The first module reached from a placeholder, through shape-changing ops on the way."""
    frontier = [node]
    seen = set()
    while frontier:
        current = frontier.pop(0)
        for user in current.users:
            if user in seen:
                continue
            seen.add(user)
            if user.op == "call_module":
                return model.get_submodule(user.target)
            if user.op in ("call_method", "call_function"):
                frontier.append(user)
    return None


def _first_layer(model: nn.Module) -> Optional[nn.Module]:
    """Without a graph: the first leaf layer, in registration order, whose input we know how to make."""
    for module in model.modules():
        if _maker_for(module) is not None:
            return module
    return None


def _float(shape: Tuple[int, ...]) -> torch.Tensor:
    return torch.empty(shape, device="meta")


def _maker_for(layer: nn.Module):
    """(make(batch, size), sizes to try, describe(size)) for the input a layer expects, or None."""
    if isinstance(layer, (nn.Conv1d, nn.ConvTranspose1d)):
        c = layer.in_channels
        return (lambda b, s: _float((b, c, s))), SEQUENCE_LENGTHS + (256, 1024), (lambda s: f"float[B, {c}, {s}]")
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        c = layer.in_channels
        return (lambda b, s: _float((b, c, s, s))), SPATIAL_SIZES, (lambda s: f"float[B, {c}, {s}, {s}]")
    if isinstance(layer, (nn.Conv3d, nn.ConvTranspose3d)):
        c = layer.in_channels
        return (lambda b, s: _float((b, c, s, s, s))), VOLUME_SIZES, (lambda s: f"float[B, {c}, {s}, {s}, {s}]")
    if isinstance(layer, nn.Linear):
        f = layer.in_features
        return (lambda b, s: _float((b, f))), (0,), (lambda s: f"float[B, {f}]")
    if isinstance(layer, nn.Embedding):
        n = layer.num_embeddings
        return (
            lambda b, s: torch.empty((b, s), dtype=torch.int64, device="meta"),
            SEQUENCE_LENGTHS,
            lambda s: f"int64[B, {s}] in [0, {n})",
        )
    if isinstance(layer, nn.RNNBase):
        f, first = layer.input_size, layer.batch_first
        make = (lambda b, s: _float((b, s, f))) if first else (lambda b, s: _float((s, b, f)))
        return make, SEQUENCE_LENGTHS, (lambda s: f"float[B, {s}, {f}]" if first else f"float[{s}, B, {f}]")
    if isinstance(layer, nn.BatchNorm1d):
        f = layer.num_features
        return (lambda b, s: _float((b, f))), (0,), (lambda s: f"float[B, {f}]")
    if isinstance(layer, nn.BatchNorm2d):
        c = layer.num_features
        return (lambda b, s: _float((b, c, s, s))), SPATIAL_SIZES, (lambda s: f"float[B, {c}, {s}, {s}]")
    return None

