"""Shape propagation on the meta device: one fx.Interpreter that records what every node produced.

Like torch/fx/passes/shape_prop.py, but an error becomes data (the failing node and exception)
instead of a traceback, so the engine can turn it into a finding at the user's line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import torch
from torch import fx


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
            with torch.no_grad():
                self.run(*inputs)
        except Exception as error:  # user code: any exception is a finding, not a crash
            self.result.error = error
            self.result.failed_node = self._current_node()
        return self.result

    def _current_node(self) -> Optional[fx.Node]:
        done = set(self.result.shapes)
        for node in self.module.graph.nodes:
            if node.name not in done:
                return node
        return None


def run_shapes(gm: fx.GraphModule, inputs: Tuple[torch.Tensor, ...]) -> Propagation:
    """Propagate shapes through `gm` for these inputs."""
    return ShapeInterpreter(gm).propagate(*inputs)
