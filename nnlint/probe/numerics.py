"""Naming where a NaN or Inf first appears: rerun the failing step with every operation watched.

Only run after a step produced a non-finite value: checking every operation synchronises the device.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnlint.graph.loading import is_user_file
from nnlint.probe.stats import user_frame
from nnlint.types import Location

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_BACKWARD = re.compile(r"Function '(?P<name>\w+)' returned nan")


def _tensors(value: Any) -> List[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value] if value.is_floating_point() else []
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def finite(value: Any) -> bool:
    """Whether every float tensor in a (nested) value is finite (synchronises)."""
    return all(bool(torch.isfinite(t).all()) for t in _tensors(value))


def _op_name(func: Any) -> str:
    name = getattr(func, "__name__", str(func))
    module = getattr(func, "__module__", "") or ""
    if module == "torch.nn.functional":
        return f"`F.{name}`"
    return f"`.{name}()`" if "Tensor" in getattr(func, "__qualname__", "") else f"`torch.{name}`"


class _ForwardTracer(TorchFunctionMode):
    """Finds the first operation that turns finite inputs into a non-finite output."""

    def __init__(self, params: Dict[int, str]) -> None:
        super().__init__()
        self.params = params
        self.found: Optional[Tuple[str, Optional[Location]]] = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.found is None and not finite(result):
            inputs = _tensors(list(args) + list(kwargs.values()))
            bad = [t for t in inputs if not bool(torch.isfinite(t).all())]
            named = [self.params[id(t)] for t in bad if id(t) in self.params]
            if named:
                self.found = (f"the parameter `{named[0]}` already holds NaN/Inf values", user_frame())
            elif not bad:
                self.found = (f"{_op_name(func)} produced NaN/Inf from finite inputs", user_frame())
        return result


def locate_forward(model: nn.Module, args: tuple, kwargs: dict) -> Tuple[str, Optional[Location]]:
    """(what produced the first non-finite value in forward, the user's line) by rerunning forward."""
    if not finite((args, kwargs)):
        return "the input batch already contains NaN/Inf", None
    tracer = _ForwardTracer({id(p): name for name, p in model.named_parameters()})
    try:
        with torch.no_grad(), tracer:
            model(*args, **kwargs)
    except Exception:  # the rerun is only for naming the op
        pass
    return tracer.found or ("the forward pass produced NaN/Inf", None)


class _BackwardTracer(TorchFunctionMode):
    """Remembers which operation consumed each tensor, and hooks every output to see non-finite gradients."""

    def __init__(self) -> None:
        super().__init__()
        self.consumers: Dict[int, Tuple[str, Optional[Location], torch.Tensor]] = {}
        self.found: Optional[Tuple[str, Optional[Location]]] = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for tensor in _tensors(list(args) + list(kwargs.values())):
            if tensor.requires_grad and id(tensor) not in self.consumers:
                self.consumers[id(tensor)] = (_op_name(func), user_frame(), tensor)
        result = func(*args, **kwargs)
        for tensor in _tensors(result):
            if tensor.requires_grad:
                tensor.register_hook(self._hook(id(tensor)))
        return result

    def _hook(self, key: int) -> Callable:
        def check(grad: torch.Tensor) -> None:
            if self.found is None and not bool(torch.isfinite(grad).all()):
                # this tensor's gradient came from the backward of the operation that consumed it
                consumer = self.consumers.get(key)
                if consumer is not None:
                    self.found = (f"the backward of {consumer[0]} produced NaN/Inf gradients", consumer[1])

        return check


def locate_backward(step: Callable[[], torch.Tensor], params: List[nn.Parameter]) -> Tuple[str, Optional[Location]]:
    """(what produced the first non-finite gradient, the user's forward line) by rerunning the step under
    anomaly detection, which names NaN-producing backward functions, with a tracer for Inf."""
    tracer = _BackwardTracer()
    anomaly: Optional[Tuple[str, Optional[Location]]] = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autograd.detect_anomaly(check_nan=True):
                with tracer:
                    loss = step()
                loss.backward()
        except RuntimeError as error:
            match = _BACKWARD.search(str(error))
            if match:
                anomaly = (f"`{match.group('name')}` returned NaN gradients", _innermost_user_frame(caught))
        except Exception:
            pass
    for param in params:
        param.grad = None
    if anomaly is not None and anomaly[1] is not None:
        return anomaly
    return tracer.found or anomaly or ("the backward pass produced NaN/Inf gradients", None)


def _innermost_user_frame(caught: List[warnings.WarningMessage]) -> Optional[Location]:
    for warning in caught:
        text = str(warning.message)
        if "Traceback of forward call" not in text:
            continue
        frames = [
            Location(m.group("file"), int(m.group("line")), 1)
            for m in _FRAME.finditer(text)
            if is_user_file(m.group("file"))
        ]
        if frames:
            return frames[-1]
    return None
