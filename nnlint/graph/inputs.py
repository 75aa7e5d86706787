"""Model inputs: from the configuration, or inferred from the first layer that consumes each argument."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import fx, nn

from nnlint.config import InputSpec
from nnlint.graph.input_names import Guess, meta_float, name_guesses, structural

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
VIDEO_SIZES = (112, 224)  # video clips: 16 frames of 112x112 or 224x224 (torchvision's video models)

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
    # Per tensor that `make` returns: the forward keyword it is passed as, or None for the next positional
    # argument. Empty: all positional.
    names: Tuple[Optional[str], ...] = ()
    # Forward arguments whose input was guessed from the argument's name (`edge_index`, `src_mask`), not
    # read from a layer: a failure may be the guess's, so it is never reported as the model's.
    guessed: Tuple[str, ...] = ()

    def arguments(self, tensors: Sequence[torch.Tensor]) -> Tuple[Tuple[torch.Tensor, ...], Dict[str, torch.Tensor]]:
        """(positional, keyword) arguments for `model(*args, **kwargs)` from what `make` returned."""
        names = tuple(self.names) + (None,) * (len(tensors) - len(self.names))
        args = tuple(t for t, name in zip(tensors, names) if name is None)
        kwargs = {name: t for t, name in zip(tensors, names) if name is not None}
        return args, kwargs


def from_specs(specs: Sequence[InputSpec]) -> InputPlan:
    """Inputs exactly as configured, positional in order and keyword where a spec has a `name`; the first
    dimension of each is the batch, unless the spec says `batched = false` (then its shape is used as given)."""

    def make(batch: int, _: int) -> Tuple[torch.Tensor, ...]:
        return tuple(
            _tensor((batch,) + tuple(spec.shape[1:]) if spec.batched else tuple(spec.shape), spec) for spec in specs
        )

    def describe(_: int) -> str:
        return ", ".join(f"{spec.name + '=' if spec.name else ''}{spec.dtype}{list(spec.shape)}" for spec in specs)

    return InputPlan(make, (0,), describe, names=tuple(spec.name for spec in specs))


# --- forward's signature ------------------------------------------------------------------------------------


def forward_parameters(model: nn.Module) -> List[inspect.Parameter]:
    """forward's named parameters (no `self`, `*args` or `**kwargs`); empty when it has no readable signature."""
    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return []
    plain = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p for p in signature.parameters.values() if p.kind in plain]


def required_arguments(model: nn.Module) -> List[str]:
    """The forward arguments without a default, in order."""
    return [p.name for p in forward_parameters(model) if p.default is inspect.Parameter.empty]


_CONCRETE = (type(None), bool, int, float, str)


def concrete_defaults(model: nn.Module, given: Sequence[str] = ()) -> Dict[str, Any]:
    """Defaults to trace with (fx `concrete_args`): every defaulted argument not `given`, so that
    `if targets is None:` takes the branch a call without `targets` takes."""
    return {
        p.name: p.default
        for p in forward_parameters(model)
        if p.default is not inspect.Parameter.empty and p.name not in given and isinstance(p.default, _CONCRETE)
    }


def given_arguments(model: nn.Module, plan: Optional[InputPlan], count: int) -> List[str]:
    """The forward arguments a plan's `count` tensors fill: positional ones in order, then its keywords."""
    names = tuple(plan.names) if plan is not None else ()
    names = names + (None,) * (count - len(names))
    positional = [p.name for p in forward_parameters(model) if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    filled = positional[: sum(1 for name in names if name is None)]
    return filled + [name for name in names if name is not None]


def configuration_hint(model: nn.Module, target: str) -> str:
    """How to configure this model's inputs: the forward signature and an `inputs = [...]` line with one
    entry per required argument."""
    required = required_arguments(model)
    optional = [p.name for p in forward_parameters(model) if p.default is not inspect.Parameter.empty]
    entries = ", ".join("{shape = [...]}" for _ in required) or "{shape = [...]}"
    needs = (
        f"`forward` takes {len(required)} required argument{'s' if len(required) != 1 else ''} ({', '.join(required)})"
        if required
        else "`forward` takes no named required argument"
    )
    keyword = f'; optional ones as {{name = "{optional[0]}", shape = [...]}}' if optional else ""
    return (
        f'{needs}. To check its wiring, add to pyproject.toml: [[tool.nnlint.models]] target = "{target}" with '
        f'inputs = [{entries}], one entry per argument in order (dtype = "int64" for token ids or indices){keyword}.'
    )


def _tensor(shape: Tuple[int, ...], spec: InputSpec) -> torch.Tensor:
    dtype = DTYPES[spec.dtype]
    return torch.empty(shape, dtype=dtype, device="meta")


def infer(model: nn.Module, graph: Optional[fx.Graph]) -> Optional[InputPlan]:
    """Inputs for the required forward arguments, inferred from the layer that first consumes each; None if unknown."""
    plans = infer_alternatives(model, graph)
    return plans[0] if plans else None


def infer_alternatives(model: nn.Module, graph: Optional[fx.Graph]) -> List[InputPlan]:
    """Plans for the required forward arguments, to try in order; empty when one argument cannot be made.

    Each argument's input is read from the layer that first consumes it (with a graph; without one, the
    first argument's from the first layer). An argument no layer tells about is guessed from its name and
    the first input's shape (`edge_index` -> int64[2, E], `adj` -> float[N, N], `src_mask` -> a mask of the
    matching shape, `input_ids` -> token ids): each guess may have a few shapes, one plan per combination."""
    if graph is not None:
        every = [n for n in graph.nodes if n.op == "placeholder"]
        # required arguments, and the first one even with a default (`input_ids=None`): it was traced as an input
        placeholders = [n for i, n in enumerate(every) if not n.args or (i == 0 and not _specialized(n))]
        names = [str(n.target) for n in placeholders]
        found: List[Any] = [_first_consumer(model, node) for node in placeholders]
    else:
        names = required_arguments(model)[:8] or ["input"]
        layer = _first_layer(model)
        path = [p for p, module in model.named_modules() if module is layer][:1] if layer is not None else []
        found = [(layer, path[0]) if layer is not None and path else None] + [None] * (len(names) - 1)
        if len(names) > 1 and layer is not None and name_guesses(names[0], model):
            found[0] = None  # `forward(self, input_ids, pixel_values)`: the names say more than the first layer
    for index in range(1, len(names)):
        if structural(names[index]):
            # an adjacency or a mask reaches a layer only through matmuls and masking: its name says more
            found[index] = None
    layered: Dict[int, Tuple[Any, Any, Any]] = {}
    consumers: List[Union[fx.Node, str]] = []
    for index, item in enumerate(found):
        maker = _maker_for(item[0]) if item is not None else None
        if maker is not None:
            layered[index] = maker
            consumers.append(item[1])
    guessed = {i: name_guesses(name, model) for i, name in enumerate(names) if i not in layered}
    if any(not options for options in guessed.values()):
        return []
    if not layered:
        # every argument guessed by its name: the first one's guess is the reference the others follow
        if not guessed:
            return []
        first = min(guessed)
        reference = guessed.pop(first)[0]
        layered[first] = (
            lambda b, s, r=reference: r(b, meta_float((b,))),
            (0,),
            lambda s, r=reference: _shape_text(r(_PROBE_BATCH, meta_float((_PROBE_BATCH,)))),
        )
    combinations: List[Dict[int, Guess]] = [{}]
    for index, options in sorted(guessed.items()):
        combinations = [{**c, index: o} for c in combinations for o in options][:8]
    return [_plan(model, names, layered, c, tuple(consumers)) for c in combinations]


def _specialized(node: fx.Node) -> bool:
    """Whether a placeholder was traced with a fixed value (fx `concrete_args` check it with an assert)."""
    return any(getattr(user.target, "__name__", "") in ("_assert_is_none", "_assert", "eq") for user in node.users)


def _plan(model: nn.Module, names: List[str], layered: Dict[int, Tuple[Any, Any, Any]], guesses, consumers):
    first = min(layered)
    sizes = layered[first][1]
    if sizes == SPATIAL_SIZES:
        declared = declared_sizes(model)
        sizes = tuple(declared) + tuple(s for s in sizes if s not in declared)
    order = sorted(layered)

    def size_for(index: int, size: int) -> int:
        # each layer's input has its own sizes to try: the n-th try of the first input is their n-th try
        own = sizes if index == first else layered[index][1]
        position = sizes.index(size) if size in sizes else 0
        return own[position % len(own)]

    def make(batch: int, size: int) -> Tuple[torch.Tensor, ...]:
        made = {i: layered[i][0](batch, size_for(i, size)) for i in order}
        reference = made[first]
        for index, guess in guesses.items():
            made[index] = guess(batch, reference)
        return tuple(made[i] for i in range(len(names)))

    def describe(size: int) -> str:
        if not guesses:
            return ", ".join(layered[i][2](size_for(i, size)) for i in order)
        made = make(_PROBE_BATCH, size)
        return ", ".join(
            f"{name}={layered[i][2](size_for(i, size))}" if i in layered else f"{name}={_shape_text(made[i])}"
            for i, name in enumerate(names)
        )

    guessed = tuple(names[i] for i in sorted(guesses))
    return InputPlan(make, tuple(sizes), describe, consumers, guessed=guessed)


_PROBE_BATCH = 7  # the batch size a description is made at; its dimension reads "B"


def _shape_text(tensor: torch.Tensor) -> str:
    dims = ["B" if d == _PROBE_BATCH else str(d) for d in tensor.shape]
    return f"{str(tensor.dtype).replace('torch.', '')}[{', '.join(dims)}]"


def images(model: nn.Module) -> Optional[InputPlan]:
    """RGB images, float[B, 3, S, S], at the declared sizes then the usual ones: the second guess for a
    model with 2-d convolutions or a declared image size whose first layer's input did not fit (a
    space-to-depth stem, a linear patch embedding, a DCT stem)."""
    declared = declared_sizes(model)
    if not declared and not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return None
    sizes = tuple(declared) + tuple(s for s in SPATIAL_SIZES if s not in declared)
    return InputPlan(lambda b, s: (meta_float((b, 3, s, s)),), sizes, lambda s: f"float[B, 3, {s}, {s}]")


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
        for holder in (owner, getattr(owner, "config", None)):  # Hugging Face: `model.config.image_size`
            for attribute in ("img_size", "image_size", "input_size"):
                _add_size(found, getattr(holder, attribute, None))
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


def _volume(size: int) -> Tuple[int, int, int]:
    """A volume (depth, height, width) for a free size: a cube, or a 16-frame clip at video sizes."""
    return (16, size, size) if size in VIDEO_SIZES else (size, size, size)


def _maker_for(layer: Union[nn.Module, _Weights]):
    """(make(batch, size), sizes to try, describe(size)) for the input a layer expects, or None."""
    if isinstance(layer, _Weights):
        return _maker_for(_STAND_INS[layer.kind](layer.size))
    if isinstance(layer, (nn.Conv1d, nn.ConvTranspose1d)):
        c = layer.in_channels
        return (
            (lambda b, s: meta_float((b, c, s))),
            SEQUENCE_LENGTHS + (256, 1024, 16000),
            (lambda s: f"float[B, {c}, {s}]"),
        )
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        c = layer.in_channels
        return (lambda b, s: meta_float((b, c, s, s))), SPATIAL_SIZES, (lambda s: f"float[B, {c}, {s}, {s}]")
    if isinstance(layer, (nn.Conv3d, nn.ConvTranspose3d)):
        c = layer.in_channels
        return (
            (lambda b, s: meta_float((b, c) + _volume(s))),
            VOLUME_SIZES + VIDEO_SIZES,
            (lambda s: f"float[B, {c}, {', '.join(map(str, _volume(s)))}]"),
        )
    if isinstance(layer, nn.Linear):
        f = layer.in_features
        return (lambda b, s: meta_float((b, f))), (0,), (lambda s: f"float[B, {f}]")
    if isinstance(layer, nn.Embedding):
        n = layer.num_embeddings
        return (
            lambda b, s: torch.empty((b, s), dtype=torch.int64, device="meta"),
            SEQUENCE_LENGTHS,
            lambda s: f"int64[B, {s}] in [0, {n})",
        )
    if isinstance(layer, nn.RNNBase):
        f, first = layer.input_size, layer.batch_first
        make = (lambda b, s: meta_float((b, s, f))) if first else (lambda b, s: meta_float((s, b, f)))
        return make, SEQUENCE_LENGTHS, (lambda s: f"float[B, {s}, {f}]" if first else f"float[{s}, B, {f}]")
    if isinstance(layer, nn.BatchNorm1d):
        f = layer.num_features
        return (lambda b, s: meta_float((b, f))), (0,), (lambda s: f"float[B, {f}]")
    if isinstance(layer, nn.BatchNorm2d):
        c = layer.num_features
        return (lambda b, s: meta_float((b, c, s, s))), SPATIAL_SIZES, (lambda s: f"float[B, {c}, {s}, {s}]")
    return None


_STAND_INS = {  # meta-sized layers with the same input as a functional one (only their sizes are read)
    nn.Conv1d: lambda c: nn.Conv1d(c, 1, 1, device="meta"),
    nn.Conv2d: lambda c: nn.Conv2d(c, 1, 1, device="meta"),
    nn.Conv3d: lambda c: nn.Conv3d(c, 1, 1, device="meta"),
    nn.Linear: lambda f: nn.Linear(f, 1, device="meta"),
    nn.Embedding: lambda n: nn.Embedding(n, 1, device="meta"),
}
