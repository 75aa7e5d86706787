"""What the probe CLI runs: a graph target plus the task, class count and loss. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from nnlint.config import ModelSpec
from nnlint.graph.targets import GraphTarget


@dataclass(frozen=True)
class ProbeTarget(GraphTarget):
    """A model target with what the probe needs to build a loss: task, number of classes, loss class."""

    task: Optional[str] = None
    num_classes: Optional[int] = None
    loss: Optional[str] = None  # dotted path of a loss class, built without arguments

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "ProbeTarget":
        """A target from a `[[tool.nnlint.models]]` entry or the command line."""
        base = GraphTarget.from_spec(spec)
        return cls(base.target, base.kwargs, base.inputs, task=spec.task, num_classes=spec.num_classes, loss=spec.loss)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "ProbeTarget":
        """Inverse of to_json."""
        base = GraphTarget.from_json(data)
        return cls(
            base.target,
            base.kwargs,
            base.inputs,
            base.discovered,
            base.path,
            base.line,
            data.get("task"),
            data.get("num_classes"),
            data.get("loss"),
        )
