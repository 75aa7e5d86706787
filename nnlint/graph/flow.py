"""Which layer's output object went straight into which layer, in an eager run (the hooks path, without fx).

Only what is unambiguous: a leaf module whose first argument is the very tensor another leaf module returned
(`self.bn(self.drop(x))`, or consecutive layers of an `nn.Sequential`). Anything computed in between makes a new
tensor, so no edge is recorded. Recorded per model, weakly, for the graph rules to read.
"""

from __future__ import annotations

import contextlib
import sys
import weakref
from types import FrameType
from typing import Any, Dict, Iterator, Optional, Tuple

import torch
from torch import nn

Edge = Tuple[str, str]  # (producer path, consumer path)
_EDGES: "weakref.WeakKeyDictionary[nn.Module, Dict[Edge, Tuple[str, int]]]" = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def recording(model: nn.Module) -> Iterator[None]:
    """Record, while the block runs the model, each direct producer -> consumer edge between leaf modules and the
    user's line that called the consumer."""
    from nnlint.graph.loading import is_user_file

    edges = _EDGES.setdefault(model, {})
    made: Dict[int, Tuple[str, torch.Tensor]] = {}  # id(output) -> (producer, output): the tensor is kept alive

    def before(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            first = args[0] if args else None
            producer = made.get(id(first)) if isinstance(first, torch.Tensor) else None
            if producer is not None and producer[1] is first:
                edges.setdefault((producer[0], name), _user_line(is_user_file))

        return hook

    def after(name: str):
        def hook(module: nn.Module, args: tuple, output: Any) -> None:
            passed_on = isinstance(module, nn.Identity) and args and output is args[0]
            if isinstance(output, torch.Tensor) and not passed_on:
                made[id(output)] = (name, output)

        return hook

    handles = []
    for name, module in model.named_modules():
        if next(module.children(), None) is None:  # leaves: a container's output is its last layer's
            handles.append(module.register_forward_pre_hook(before(name)))
            handles.append(module.register_forward_hook(after(name)))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def edges(model: nn.Module) -> Dict[Edge, Tuple[str, int]]:
    """The recorded edges of `model` and the user's line of each consumer's call (empty if none was recorded)."""
    return dict(_EDGES.get(model, {}))


def _user_line(is_user_file) -> Tuple[str, int]:
    frame: Optional[FrameType] = sys._getframe(2)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return "", 0
