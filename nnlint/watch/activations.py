"""The probe's activation Recorder made cheap enough to run on consecutive training forwards.

A sampled step hooks up to `max_forwards` forwards (8 at batch 8, to see the 64 samples NN313 needs). The
probe's Recorder costs about a fifth of a ResNet-18 forward on CPU each time; this one costs a fifth of
that, and records the same activation statistics:

- no per-layer output moments (no watched rule reads them);
- a ReLU's flags come from one max and one min per unit of its input, read before the call (an in-place
  ReLU overwrites it): alive = max > 0, touched = max != 0 or min != 0. The probe's Recorder compares the
  whole input with zero and takes a max of the output as well;
- after the first forward, module hooks only on the modules an activation was called in (the site keys
  name them), not on every module: a ResNet-18 has 9 such modules among its 68.
"""

from __future__ import annotations

from typing import Any, List, Optional, Set, Tuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.probe.stats import ACTIVATIONS, Recorder, _per_unit, _unit_dims


class ActivationRecorder(Recorder):
    """Activation statistics of training forwards (see the module docstring); `begin()` starts each forward."""

    def __init__(self, model: nn.Module, saturation: float = 5.0) -> None:
        super().__init__(model, saturation)
        self.activations = True
        self.moments = False
        self._hooked: Optional[List[nn.Module]] = None  # after the first forward: the modules the sites are in

    def begin(self, module: nn.Module, args: Any) -> None:
        """Start recording a forward of `module` (the model, or the child a LightningModule calls): hooks on,
        and its frame entered, as its own pre-hook was added while its pre-hooks ran."""
        self.__enter__()
        self._stack.clear()
        self._module_calls.clear()  # the outer module may be a child, whose entry does not reset the counts
        self._enter_module(module, args)

    def narrow(self) -> None:
        """From now on hook only the modules the recorded activations were called in (their keys stay the same
        while the forward takes the same path; a new path's activations get sites of their own or none)."""
        paths: Set[str] = {site.module for site in self.sites.values()}
        self._hooked = [m for m in self.model.modules() if self.names.get(id(m)) in paths]

    def __enter__(self):
        if self._hooked is None:
            return super().__enter__()
        for module in self._hooked:
            self._handles.append(module.register_forward_pre_hook(self._enter_module))
            self._handles.append(module.register_forward_hook(self._leave_module, always_call=True))
        return TorchFunctionMode.__enter__(self)  # the mode, without the Recorder's hooks on every module

    def _leave_module(self, module: nn.Module, args: Any, output: Any) -> None:
        if self._stack:
            self._stack.pop()
        if id(module) in self.leaves:
            self._last_leaf = self.names.get(id(module), "?")

    def __torch_function__(self, func, types, args=(), kwargs=None):
        value = args[0] if args else None
        if (
            ACTIVATIONS.get(func) != "relu"
            or not isinstance(value, torch.Tensor)
            or not value.is_floating_point()
            or not value.numel()
        ):
            return super().__torch_function__(func, types, args, kwargs)
        extremes = _unit_extremes(value)  # before the call: an in-place ReLU overwrites its input
        result = func(*args, **(kwargs or {}))
        if isinstance(result, torch.Tensor) and result.shape == value.shape:
            self._relu(func, result, extremes)
        return result

    def _relu(self, func: Any, result: torch.Tensor, extremes: Tuple[torch.Tensor, torch.Tensor]) -> None:
        site, _ = self._site("relu", func, result)
        if site.moments is None:
            site.moments = torch.zeros(2, dtype=torch.float64, device=result.device)
        top, bottom = extremes
        alive = top > 0
        touched = (top != 0) | (bottom != 0)  # NaN counts as touched, as `value != 0` does
        site.alive = alive if site.alive is None else site.alive | alive
        site.touched = touched if site.touched is None else site.touched | touched


def _unit_extremes(value: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(max, min) per unit of a tensor (channels of [B, C, ...], features of [B, F] and [B, T, F])."""
    value = value.detach()
    dims, _ = _unit_dims(value)
    if not dims:
        return value, value
    return _per_unit(value, dims, torch.amax), _per_unit(value, dims, torch.amin)
