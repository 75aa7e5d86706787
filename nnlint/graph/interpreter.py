"""Shape propagation on the meta device: one fx.Interpreter that records what every node produced.

Like torch/fx/passes/shape_prop.py, but an error becomes data (the failing node and exception)
instead of a traceback, so the engine can turn it into a finding at the user's line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Dict, Iterator, Optional, Tuple, cast

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.overrides import TorchFunctionMode


@dataclass
class Propagation:
    """Shapes per node name, and the first failure if the run stopped early."""

    shapes: Dict[str, Any] = field(default_factory=dict)
    failed_node: Optional[fx.Node] = None
    error: Optional[BaseException] = None

    @property
    def ok(self) -> bool:
        """Whether every node ran."""
        return self.error is None


def describe(value: Any) -> Any:
    """A plain description of a node's result: a shape tuple for a tensor, nested for containers."""
    if isinstance(value, torch.Tensor):
        return tuple(int(d) for d in value.shape)
    if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
        return tuple(describe(v) for v in value)
    if isinstance(value, dict):
        return {k: describe(v) for k, v in value.items()}
    return None


_TORCH_DIR = os.path.dirname(os.path.realpath(torch.__file__))
_NNLINT_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_TRANSPOSED_CONVS = {F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d}


NO_ANSWER = object()


def meta_gap_answer(func: Any, args: tuple) -> Any:
    """The answer to a value question a library asks of a meta tensor, or `NO_ANSWER`.

    `bool(tensor)` inside torch or an installed library (nn.Transformer asking whether a mask is causal,
    transformers asking whether a padding mask is all ones) only picks a fast path: answer False, the
    general path, whose shapes are checked. The user's own `if tensor:` still fails (NN012)."""
    if func is torch.Tensor.__bool__ and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
        if _asked_by_a_library():
            return False
    return NO_ANSWER


def _asked_by_a_library() -> bool:
    frame: Optional[FrameType] = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_NNLINT_DIR):
        frame = frame.f_back
    if frame is None:
        return False
    filename = frame.f_code.co_filename
    return filename.startswith(_TORCH_DIR) or "site-packages" in filename or "dist-packages" in filename


def check_meta_gaps(func: Any, args: tuple, kwargs: dict) -> None:
    """Checks a CPU kernel makes and its meta kernel skips, raised with the CPU's words: a transposed
    convolution's meta kernel accepts an input with the wrong number of channels."""
    if func in _TRANSPOSED_CONVS and len(args) > 1:
        x, weight = args[0], args[1]
        if (
            isinstance(x, torch.Tensor)
            and isinstance(weight, torch.Tensor)
            and x.dim() in (weight.dim(), weight.dim() - 1)
        ):
            channels = x.shape[1] if x.dim() == weight.dim() else x.shape[0]
            if channels != weight.shape[0]:
                raise RuntimeError(
                    f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
                    f"{weight.shape[0]} channels, but got {channels} channels instead"
                )


class MetaGaps(TorchFunctionMode):
    """Inside the block, torch functions make the checks their meta kernels skip (`check_meta_gaps`)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        answer = meta_gap_answer(func, args)
        if answer is not NO_ANSWER:
            return answer
        check_meta_gaps(func, args, kwargs)
        return func(*args, **kwargs)


class ShapeInterpreter(fx.Interpreter):
    """Runs a GraphModule on meta tensors, writing `node.meta["nnlint_shape"]` and keeping the first error."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module, garbage_collect_values=True)
        self.result = Propagation()

    def run_node(self, n: fx.Node) -> Any:
        value = super().run_node(n)
        shape = describe(value)
        self.result.shapes[n.name] = shape
        n.meta["nnlint_shape"] = shape
        if isinstance(value, torch.Tensor):
            n.meta["nnlint_dtype"] = str(value.dtype).replace("torch.", "")
        return value

    def propagate(self, *inputs: torch.Tensor) -> Propagation:
        """Run the graph; on failure record the node that raised."""
        self.result = Propagation()
        try:
            with torch.no_grad(), MetaGaps():
                self.run(*inputs)
        except Exception as error:  # user code: any exception is a finding, not a crash
            self.result.error = error
            self.result.failed_node = self._current_node()
        return self.result

    def _current_node(self) -> Optional[fx.Node]:
        done = set(self.result.shapes)
        for node in self.graph.nodes:
            if node.name not in done:
                return node
        return None


def run_shapes(gm: fx.GraphModule, inputs: Tuple[torch.Tensor, ...]) -> Propagation:
    """Propagate shapes through `gm` for these inputs."""
    return ShapeInterpreter(gm).propagate(*inputs)


@contextlib.contextmanager
def fast_recurrent_layers(model: nn.Module) -> Iterator[None]:
    """Inside the block, RNN/LSTM/GRU layers given meta tensors compute their outputs' shapes from their
    sizes, after their own argument checks: their meta kernels step through time in Python, which costs
    seconds per layer at sequence length 256 (timm's Sequencer has dozens of LSTMs)."""
    patched = [m for m in model.modules() if type(m) in (nn.RNN, nn.LSTM, nn.GRU) and "forward" not in m.__dict__]
    for module in patched:
        module.forward = _recurrent_shapes(cast(nn.RNNBase, module))  # type: ignore[method-assign]
    try:
        yield
    finally:
        for module in patched:
            module.__dict__.pop("forward", None)


def _recurrent_shapes(module: nn.RNNBase):
    original = type(module).forward

    def forward(input: Any, hx: Any = None) -> Any:
        hidden = list(hx) if isinstance(hx, tuple) else [hx] if hx is not None else []
        if (
            not isinstance(input, torch.Tensor)
            or not input.is_meta
            or not all(isinstance(h, torch.Tensor) and h.is_meta for h in hidden)
        ):
            return original(module, input, hx)  # packed sequences, real tensors: the layer itself
        lstm = isinstance(module, nn.LSTM)
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(module).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        batch_dim = 0 if module.batch_first else 1
        x = input if batched else input.unsqueeze(batch_dim)
        if hx is None:
            module.check_input(x, None)
        else:
            h = hx if batched else (tuple(t.unsqueeze(1) for t in hx) if lstm else hx.unsqueeze(1))
            module.check_forward_args(x, h, None)  # type: ignore[arg-type]  # an LSTM's hx is a (h, c) tuple
        directions = 2 if module.bidirectional else 1
        size = module.proj_size or module.hidden_size
        layers = directions * module.num_layers
        output = x.new_empty(tuple(x.shape[:-1]) + (directions * size,))
        h_n = x.new_empty((layers, x.size(batch_dim), size))
        c_n = x.new_empty((layers, x.size(batch_dim), module.hidden_size))
        if not batched:
            output, h_n, c_n = output.squeeze(batch_dim), h_n.squeeze(1), c_n.squeeze(1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    return forward
