"""Hooks that watch a forward pass: which modules ran, activation statistics, parameter use, cuts.

Forward hooks see modules; a TorchFunctionMode sees functional calls (`F.relu`, `torch.sigmoid`,
`.detach()`, `.data`) and attributes them to the module whose forward is running. Statistics are
accumulated in device tensors and read back in one synchronisation by `read()`.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Dict, List, Optional, Set, Tuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.graph.loading import is_user_file
from nnlint.probe.facts import ActivationSite
from nnlint.types import Location

F = nn.functional
ACTIVATIONS = {
    F.relu: "relu",
    torch.relu: "relu",
    torch.relu_: "relu",
    F.relu_: "relu",
    torch.Tensor.relu: "relu",
    torch.Tensor.relu_: "relu",
    torch.sigmoid: "sigmoid",
    torch.Tensor.sigmoid: "sigmoid",
    torch.Tensor.sigmoid_: "sigmoid",
    torch.tanh: "tanh",
    torch.Tensor.tanh: "tanh",
    torch.Tensor.tanh_: "tanh",
}
DROPOUTS = {F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout, torch.dropout}
SOFTMAXES = {F.softmax, torch.softmax, torch.Tensor.softmax}
CUTS = {
    torch.Tensor.detach: "`.detach()`",
    torch.Tensor.detach_: "`.detach_()`",
    torch.detach: "`torch.detach()`",
    torch.Tensor.item: "`.item()`",
    torch.Tensor.tolist: "`.tolist()`",
    torch.Tensor.numpy: "`.numpy()`",
    torch.tensor: "`torch.tensor(...)`",
    torch.as_tensor: "`torch.as_tensor(...)`",
}
_DATA = torch._C.TensorBase.data  # `.data` reaches the mode as this descriptor's __get__
_ACTIVATION_MODULES = (nn.ReLU, nn.Sigmoid, nn.Tanh)


def user_frame() -> Optional[Location]:
    """The innermost frame of the user's code on the current stack."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return Location(frame.f_code.co_filename, frame.f_lineno, 1)
        frame = frame.f_back
    return None


@dataclass
class Cut:
    """A call that took a tensor out of the autograd graph: `.detach()`, `.data`, `.item()`, `torch.tensor(x)`."""

    label: str
    where: Optional[Location]
    grad_fn: Any  # the autograd node of the tensor that was cut (None for a parameter itself)
    param: Optional[int]  # id() of the parameter when the cut tensor is one


@dataclass
class _Site:
    kind: str
    name: str
    label: str
    module: str
    where: Optional[Location]
    after: str
    units: int
    samples: int = 0
    alive: Optional[torch.Tensor] = None  # relu: unit was > 0 for some sample
    # relu: unit had a non-zero input for some sample (exactly zero everywhere: a zero-initialised path feeds it,
    # which its first steps bring to life; NN312 reports one that stays zero)
    touched: Optional[torch.Tensor] = None
    saturated: Optional[torch.Tensor] = None  # sigmoid/tanh: saturated elements per unit
    elements: int = 0  # elements per unit seen
    moments: Optional[torch.Tensor] = None  # sum, sum of squares
    count: int = 0
    position: int = 0  # leaf layers with parameters that ran before it


@dataclass
class _Frame:
    path: str
    index: int
    counts: Dict[str, int] = field(default_factory=dict)


class Recorder(TorchFunctionMode):
    """Module hooks plus a torch function mode over one model; enable what a phase needs, then `with recorder:`."""

    def __init__(self, model: nn.Module, saturation: float = 5.0) -> None:
        super().__init__()
        self.model = model
        self.names = {id(m): name for name, m in model.named_modules()}
        self.params = {id(p): name for name, p in model.named_parameters()}
        self.leaves = {id(m) for m in model.modules() if next(m.children(), None) is None}
        self.owners = {id(m) for m in model.modules() if next(m.parameters(recurse=False), None) is not None}
        self.saturation_edges = {"sigmoid": 1 / (1 + math.exp(-saturation)) - 0.5, "tanh": math.tanh(saturation)}
        # switches, set per phase
        self.activations = False
        self.dropout_off = False
        self.cuts_enabled = False
        self.variance = False
        self.moments = True  # mean and std of each activation (the report's table; no rule needs them)
        # what was seen
        self.called: Set[str] = set()
        self.order: List[str] = []  # modules that own parameters, by first call
        self.nograd_modules: Set[str] = set()
        self.used_params: Set[int] = set()
        self.grad_params: Set[int] = set()  # used while grad mode was on
        self.nograd_use: Dict[int, Optional[Location]] = {}
        self.cuts: List[Cut] = []
        self.softmax_where: Optional[Location] = None
        self.variance_ratios: List[Tuple[str, Optional[Location], str, torch.Tensor]] = []
        self.sites: Dict[str, _Site] = {}
        self.outputs: Dict[str, _Site] = {}  # per leaf module: output moments (kind "output")
        self._stack: List[_Frame] = []
        self._module_calls: Dict[str, int] = {}
        self._last_leaf = ""
        self._dropped: Dict[int, Tuple[torch.Tensor, torch.Tensor, str]] = {}
        self._handles: List[Any] = []

    # --- module hooks --------------------------------------------------------------------------

    def __enter__(self):
        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(self._enter_module))
            self._handles.append(module.register_forward_hook(self._leave_module, always_call=True))
        return super().__enter__()

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._dropped.clear()
        return super().__exit__(*exc)

    def _enter_module(self, module: nn.Module, args: Any) -> None:
        path = self.names.get(id(module), "?")
        if module is self.model:
            self._stack.clear()
            self._module_calls.clear()
            self._dropped.clear()
        index = self._module_calls.get(path, 0)
        self._module_calls[path] = index + 1
        self._stack.append(_Frame(path, index))
        self.called.add(path)
        if not torch.is_grad_enabled():
            self.nograd_modules.add(path)
        if id(module) in self.owners and path not in self.order:
            self.order.append(path)

    def _leave_module(self, module: nn.Module, args: Any, output: Any) -> None:
        if self._stack:
            self._stack.pop()
        if id(module) not in self.leaves:
            return
        path = self.names.get(id(module), "?")
        self._last_leaf = path
        if self.activations and isinstance(output, torch.Tensor) and output.is_floating_point() and output.numel():
            site = self.outputs.get(path)
            if site is None:
                site = self.outputs[path] = _Site("output", path, path, path, None, "", 0)
            moments = _moments(output.detach())
            site.moments = moments if site.moments is None else site.moments + moments
            site.count += output.numel()

    # --- functional calls ----------------------------------------------------------------------

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in DROPOUTS:
            return self._dropout(func, args, kwargs)
        if self.cuts_enabled:
            self._note_use(func, args, kwargs)
        if self.variance and func is F.batch_norm:
            self._batch_norm(args, kwargs)
        kind = ACTIVATIONS.get(func) if self.activations else None
        # which ReLU units get a non-zero input, read before the call (an in-place ReLU overwrites its input)
        touched = _nonzero_units(args[0]) if kind == "relu" and args and isinstance(args[0], torch.Tensor) else None
        result = func(*args, **kwargs)
        if kind is not None and isinstance(result, torch.Tensor) and result.is_floating_point() and result.numel():
            self._activation(kind, func, result, touched)
        elif func in SOFTMAXES and self.softmax_where is None:
            self.softmax_where = user_frame()
        return result

    def _dropout(self, func, args, kwargs):
        value = args[0] if args else kwargs.get("input")
        if self.dropout_off:
            return value
        result = func(*args, **kwargs)
        if self.variance and isinstance(result, torch.Tensor) and result is not value:
            p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
            self._dropped[id(result)] = (result, value, f"dropout(p={p})")
        return result

    def _batch_norm(self, args, kwargs) -> None:
        value = args[0] if args else kwargs.get("input")
        entry = self._dropped.get(id(value)) if isinstance(value, torch.Tensor) else None
        if entry is None or entry[0] is not value or value.dim() < 2 or value.shape[0] < 2:
            return
        _, before, label = entry
        dims = [d for d in range(value.dim()) if d != 1]
        train_var = value.detach().float().var(dim=dims)
        eval_var = before.detach().float().var(dim=dims)
        ratio = (eval_var / train_var.clamp_min(1e-12)).median()
        module = self._stack[-1].path if self._stack else ""
        self.variance_ratios.append((module, user_frame(), label, ratio))

    def _note_use(self, func, args, kwargs) -> None:
        grad_on = torch.is_grad_enabled()
        for value in list(args) + list(kwargs.values()):
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, nn.Parameter) and id(item) in self.params:
                    self.used_params.add(id(item))
                    if grad_on:
                        self.grad_params.add(id(item))
                    elif id(item) not in self.nograd_use:
                        self.nograd_use[id(item)] = user_frame()
        label = CUTS.get(func)
        if label is None and getattr(func, "__self__", None) is _DATA:
            label = "`.data`"
        if label is None or not args or not isinstance(args[0], torch.Tensor) or not args[0].requires_grad:
            return
        tensor = args[0]
        param = id(tensor) if isinstance(tensor, nn.Parameter) else None
        self.cuts.append(Cut(label, user_frame(), tensor.grad_fn, param))

    def _site(self, kind: str, func, result: torch.Tensor) -> Tuple[_Site, Tuple[int, ...]]:
        """The site of this call (key: module path, its call number, the kind's count in it), with the result's
        samples, elements and values counted; and the result's per-unit reduction dims."""
        frame = self._stack[-1] if self._stack else _Frame("", 0)
        number = frame.counts.get(kind, 0)
        frame.counts[kind] = number + 1
        key = f"{frame.path}@{frame.index}/{kind}{number}"
        dims, units = _unit_dims(result)
        site = self.sites.get(key)
        if site is None or site.units != units:
            site = self.sites[key] = _Site(
                kind,
                self._name(frame, kind, number),
                self._label(frame.path, func),
                frame.path,
                user_frame(),
                self._after(frame.path),
                units,
                position=len(self.order),
            )
        site.samples += result.shape[0] if result.dim() else 1
        site.elements += result.numel() // max(units, 1)
        site.count += result.numel()
        return site, dims

    def _activation(self, kind: str, func, result: torch.Tensor, touched: Optional[torch.Tensor] = None) -> None:
        site, dims = self._site(kind, func, result)
        value = result.detach()
        if kind == "relu":
            alive = (_per_unit(value, dims, torch.amax) > 0) if dims else (value > 0)
            site.alive = alive if site.alive is None else site.alive | alive
            if touched is not None and touched.shape == alive.shape:
                site.touched = touched if site.touched is None else site.touched | touched
        else:
            centred = (value - 0.5).abs() if kind == "sigmoid" else value.abs()
            saturated = (
                _per_unit(centred >= self.saturation_edges[kind], dims, torch.sum)
                if dims
                else (centred >= self.saturation_edges[kind]).float()
            )
            site.saturated = saturated if site.saturated is None else site.saturated + saturated
        if self.moments:
            moments = _moments(value)
            site.moments = moments if site.moments is None else site.moments + moments
        elif site.moments is None:
            site.moments = torch.zeros(2, dtype=torch.float64, device=value.device)

    def _name(self, frame: _Frame, kind: str, number: int) -> str:
        """A short name for the per-layer table: `layer1.0.relu`, `layer1.0.relu#2`, `block:relu`."""
        module = self.model.get_submodule(frame.path) if frame.path else self.model
        call = f"#{frame.index + 1}" if frame.index else ""
        if isinstance(module, _ACTIVATION_MODULES):
            return f"{frame.path}{call}"
        return f"{frame.path or '(model)'}{call}:{kind}{number + 1 if number else ''}"

    def _label(self, path: str, func) -> str:
        module = self.model.get_submodule(path) if path else self.model
        if isinstance(module, _ACTIVATION_MODULES):
            return f"`self.{path}` ({type(module).__name__})"
        name = getattr(func, "__name__", "activation")
        owner = f"`{type(module).__name__}.forward`"
        prefix = (
            "F."
            if getattr(func, "__module__", "") == "torch.nn.functional"
            else ("." if "Tensor" in getattr(func, "__qualname__", "") else "torch.")
        )
        return f"`{prefix}{name}` in {owner}"

    def _after(self, path: str) -> str:
        last = self._last_leaf
        if not last or last == path:
            return ""
        module = self.model.get_submodule(last)
        return f"`self.{last}` ({type(module).__name__})"

    # --- reading back --------------------------------------------------------------------------

    def read(
        self, saturated_share: float = 0.95
    ) -> Tuple[List[ActivationSite], Dict[str, Tuple[float, float]], List[Tuple[str, Optional[Location], str, float]]]:
        """(activation sites, per-module output (mean, std), variance ratios) in one synchronisation."""
        pieces: List[torch.Tensor] = []
        sites = list(self.sites.values())
        outputs = list(self.outputs.items())
        for site in sites:
            # a site is recorded only once it has seen an output, so its tensors are set
            assert site.moments is not None
            if site.kind == "relu":
                assert site.alive is not None
                dead = ~site.alive if site.touched is None else ~site.alive & site.touched
                pieces.append(dead.sum().reshape(1).double())
            else:
                assert site.saturated is not None
                fraction = site.saturated.double() / max(site.elements, 1)
                pieces.append((fraction >= saturated_share).sum().reshape(1).double())
            pieces.append(site.moments)
        for _, output in outputs:
            assert output.moments is not None
            pieces.append(output.moments)
        pieces += [ratio.reshape(1).double() for *_, ratio in self.variance_ratios]
        values = torch.cat([p.reshape(-1) for p in pieces]).tolist() if pieces else []
        it = iter(values)
        found = []
        for key, site in zip(self.sites, sites):
            count, (total, squares) = next(it), (next(it), next(it))
            mean, std = _mean_std(total, squares, site.count)
            found.append(
                ActivationSite(
                    key,
                    site.kind,
                    site.label,
                    site.module,
                    site.where,
                    site.units,
                    site.samples,
                    dead_units=int(count) if site.kind == "relu" else 0,
                    saturated_units=int(count) if site.kind != "relu" else 0,
                    after=site.after,
                    mean=mean,
                    std=std,
                    name=site.name,
                    position=site.position,
                )
            )
        layer_outputs = {}
        for path, site in outputs:
            total, squares = next(it), next(it)
            layer_outputs[path] = _mean_std(total, squares, site.count)
        ratios = [(module, where, label, next(it)) for module, where, label, _ in self.variance_ratios]
        return found, layer_outputs, ratios


def _nonzero_units(value: torch.Tensor) -> Optional[torch.Tensor]:
    """Per unit: whether any sample's value is non-zero."""
    if not value.is_floating_point() or not value.numel():
        return None
    dims, _ = _unit_dims(value)
    nonzero = value.detach() != 0
    return _per_unit(nonzero, dims, torch.amax) if dims else nonzero


def _per_unit(value: torch.Tensor, dims: Tuple[int, ...], reduce: Any) -> torch.Tensor:
    """`reduce` (torch.amax or torch.sum) over `dims`, the dimensions after the unit's first: on CPU one reduction
    over the batch and spatial dimensions of a [B, C, H, W] map is hundreds of times slower than two in turn."""
    tail = tuple(d for d in dims if all(e in dims for e in range(d, value.dim())))
    if not tail or len(tail) == len(dims):
        return reduce(value, dim=dims)
    return reduce(reduce(value, dim=tail), dim=tuple(d for d in dims if d not in tail))


def _unit_dims(value: torch.Tensor) -> Tuple[Tuple[int, ...], int]:
    """(dims to reduce, number of units): channels of [B, C, ...] maps, features of [B, F] and [B, T, F]."""
    if value.dim() <= 1:
        return tuple(range(value.dim())), 1
    unit = value.dim() - 1 if value.dim() == 3 else 1
    return tuple(d for d in range(value.dim()) if d != unit), value.shape[unit]


def _moments(value: torch.Tensor) -> torch.Tensor:
    """[sum, sum of squares] in float32 at least (half precision would overflow)."""
    value = value if value.dtype in (torch.float32, torch.float64) else value.float()
    return torch.stack([value.sum(), value.square().sum()]).double()


def _mean_std(total: float, squares: float, count: int) -> Tuple[float, float]:
    if count <= 0:
        return 0.0, 0.0
    mean = total / count
    return mean, math.sqrt(max(squares / count - mean * mean, 0.0))
