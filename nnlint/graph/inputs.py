"""Model inputs: from the configuration, or inferred from the first layer that consumes each argument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import fx, nn

from nnlint.config import InputSpec

DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "bool": torch.bool,
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
    # What an inferred plan was read from: the fx nodes of the first layers, or (without a graph) the
    # module path of the first layer. A failure there or before means the guess is wrong, not the model.
    consumers: Tuple[Union[fx.Node, str], ...] = ()


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
    consumers: List[Union[fx.Node, str]] = []
    if graph is not None:
        placeholders = [n for n in graph.nodes if n.op == "placeholder" and not n.args]
        maybe_found = [_first_consumer(model, node) for node in placeholders]
        found = [item for item in maybe_found if item is not None]
        if len(found) < len(maybe_found):
            return None
        layers: List[Any] = [layer for layer, _ in found]
        consumers = [node for _, node in found]
    else:
        layers = [_first_layer(model)]
        consumers = [path for path, module in model.named_modules() if module is layers[0]][:1]
    if not layers or any(layer is None for layer in layers):
        return None
    makers = [_maker_for(layer) for layer in layers]
    if any(maker is None for maker in makers):
        return None
    sizes = makers[0][1]
    if sizes == SPATIAL_SIZES:
        declared = declared_sizes(model)
        sizes = tuple(declared) + tuple(s for s in sizes if s not in declared)

    def make(batch: int, size: int) -> Tuple[torch.Tensor, ...]:
        return tuple(maker(batch, size) for maker, _, _ in makers)

    def describe(size: int) -> str:
        return ", ".join(text(size) for _, _, text in makers)

    return InputPlan(make, sizes, describe, tuple(consumers))


def images(model: nn.Module) -> Optional[InputPlan]:
    """RGB images, float[B, 3, S, S], at the declared sizes then the usual ones: the second guess for a
    model with 2-d convolutions or a declared image size whose first layer's input did not fit (a
    space-to-depth stem, a linear patch embedding, a DCT stem)."""
    declared = declared_sizes(model)
    if not declared and not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return None
    sizes = tuple(declared) + tuple(s for s in SPATIAL_SIZES if s not in declared)
    return InputPlan(lambda b, s: (_float((b, 3, s, s)),), sizes, lambda s: f"float[B, 3, {s}, {s}]")


def declared_sizes(model: nn.Module) -> List[int]:
    """Square image sizes the model declares, tried first: timm's `pretrained_cfg["input_size"]`, or an
    `img_size`/`image_size`/`input_size` attribute on the model or a direct child (a ViT's patch embedding).
    Models with position embeddings or fixed attention windows run at that size only."""
    found: List[int] = []
    owners = [model] + [child for _, child in model.named_children()]
    for owner in owners:
        for config in ("pretrained_cfg", "default_cfg"):
            value = getattr(owner, config, None)
            if isinstance(value, dict):
                _add_size(found, value.get("input_size"))
        for attribute in ("img_size", "image_size", "input_size"):
            _add_size(found, getattr(owner, attribute, None))
    return found


def _add_size(found: List[int], value: Any) -> None:
    if isinstance(value, (list, tuple)) and len(value) == 3:
        value = value[1:]  # (channels, height, width)
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool) and 8 <= value <= 4096 and value not in found:
        found.append(value)


def _first_consumer(model: nn.Module, node: fx.Node) -> Optional[Tuple[Union[nn.Module, "_Weights"], fx.Node]]:
    """The first layer that tells its input's shape reached from a placeholder, through shape-changing ops and
    shape-keeping layers (activations, dropout, identity) on the way: a module, or the weights of a functional
    conv/linear/embedding."""
    frontier = [node]
    seen = set()
    while frontier:
        current = frontier.pop(0)
        for user in current.users:
            if user in seen:
                continue
            seen.add(user)
            if user.op == "call_module":
                module = model.get_submodule(str(user.target))
                if _maker_for(module) is not None:
                    return module, user
                if isinstance(module, _SHAPE_KEEPING):
                    frontier.append(user)
                # else a layer that tells nothing about its input (LayerNorm, Flatten): other paths may
            elif (
                user.op == "call_function"
                and user.target in _FUNCTIONAL_LAYERS
                and user.args
                and user.args[0] is current
            ):
                weights = _functional_weights(model, user)
                if weights is not None:
                    return weights, user
                frontier.append(user)
            elif user.op in ("call_method", "call_function") and not _reads_shape(user):
                frontier.append(user)
    return None


def _reads_shape(node: fx.Node) -> bool:
    """`x.shape`, `x.size()`, `x.dim()`: what follows is arithmetic on sizes, not the input's data."""
    if node.op == "call_method":
        return node.target in ("size", "dim", "numel", "type", "get_device")
    return node.target is getattr and len(node.args) > 1 and node.args[1] in ("shape", "ndim", "dtype", "device")


_SHAPE_KEEPING = (
    nn.Identity,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.ELU,
    nn.SELU,
    nn.PReLU,
)
_FUNCTIONAL_LAYERS = {
    F.conv1d: nn.Conv1d,
    torch.conv1d: nn.Conv1d,
    F.conv2d: nn.Conv2d,
    torch.conv2d: nn.Conv2d,
    F.conv3d: nn.Conv3d,
    torch.conv3d: nn.Conv3d,
    F.linear: nn.Linear,
    F.embedding: nn.Embedding,
}


@dataclass(frozen=True)
class _Weights:
    """A functional layer (`F.conv2d(x, self.weight)` in a custom conv class) seen through its weight's shape."""

    kind: type
    size: int  # input channels, input features or number of embeddings


def _functional_weights(model: nn.Module, node: fx.Node) -> Optional[_Weights]:
    kind = _FUNCTIONAL_LAYERS[node.target]  # type: ignore[index]  # the caller checked it is a key
    weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
    dims = {nn.Conv1d: 3, nn.Conv2d: 4, nn.Conv3d: 5, nn.Linear: 2, nn.Embedding: 2}[kind]
    tensor = _parameter_behind(model, weight, dims)
    if tensor is None:
        return None
    if kind is nn.Embedding:
        return _Weights(kind, int(tensor.shape[0]))
    if kind is nn.Linear:
        return _Weights(kind, int(tensor.shape[1]))
    groups = node.args[6] if len(node.args) > 6 else node.kwargs.get("groups", 1)
    return _Weights(kind, int(tensor.shape[1]) * groups) if isinstance(groups, int) else None


def _parameter_behind(model: nn.Module, value: Any, dims: int) -> Optional[torch.Tensor]:
    """The attribute tensor of `dims` dimensions a weight is computed from (a standardised conv reshapes and
    normalises its weight first, keeping the shape), searching the weight's inputs nearest first."""
    frontier, seen = [value], set()
    while frontier:
        current = frontier.pop(0)
        if not isinstance(current, fx.Node) or current in seen:
            continue
        seen.add(current)
        if current.op == "get_attr":
            tensor = _attribute(model, str(current.target))
            if isinstance(tensor, torch.Tensor) and tensor.dim() == dims:
                return tensor
        frontier.extend(a for a in list(current.args) + list(current.kwargs.values()) if isinstance(a, fx.Node))
    return None


def _attribute(model: nn.Module, path: str) -> Any:
    value: Any = model
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def _first_layer(model: nn.Module) -> Optional[nn.Module]:
    """Without a graph: the first leaf layer, in registration order, whose input we know how to make."""
    for module in model.modules():
        if _maker_for(module) is not None:
            return module
    return None


def _float(shape: Tuple[int, ...]) -> torch.Tensor:
    return torch.empty(shape, device="meta")


def _maker_for(layer: Union[nn.Module, _Weights]):
    """(make(batch, size), sizes to try, describe(size)) for the input a layer expects, or None."""
    if isinstance(layer, _Weights):
        return _maker_for(_STAND_INS[layer.kind](layer.size))
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


_STAND_INS = {  # meta-sized layers with the same input as a functional one (only their sizes are read)
    nn.Conv1d: lambda c: nn.Conv1d(c, 1, 1, device="meta"),
    nn.Conv2d: lambda c: nn.Conv2d(c, 1, 1, device="meta"),
    nn.Conv3d: lambda c: nn.Conv3d(c, 1, 1, device="meta"),
    nn.Linear: lambda f: nn.Linear(f, 1, device="meta"),
    nn.Embedding: lambda n: nn.Embedding(n, 1, device="meta"),
}
