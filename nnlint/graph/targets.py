"""What the graph pass checks: a model target, how to build it and what to feed it. No torch here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from nnlint.config import InputSpec, ModelSpec


@dataclass(frozen=True)
class GraphTarget:
    """One model to check: `file.py:Name` or `pkg.mod:Name`, its kwargs and inputs (None: infer them)."""

    target: str
    kwargs: Dict[str, Any] = field(default_factory=dict)
    inputs: Optional[Tuple[InputSpec, ...]] = None
    discovered: bool = False  # found by zero-config discovery rather than configured
    path: Optional[str] = None  # display path of the defining file, when known
    line: Optional[int] = None  # line of the class definition, when known

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "GraphTarget":
        """A target from a `[[tool.nnlint.models]]` entry or the `--model` option."""
        inputs = spec.inputs
        if inputs is None and spec.input_shape is not None:
            inputs = (InputSpec(tuple(spec.input_shape)),)
        return cls(spec.target, dict(spec.kwargs), inputs)

    def to_json(self) -> Dict[str, Any]:
        """Plain data for the worker process."""
        data = asdict(self)
        data["inputs"] = [asdict(spec) for spec in self.inputs] if self.inputs is not None else None
        return data

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "GraphTarget":
        """Inverse of to_json."""
        inputs = data.get("inputs")
        specs = (
            tuple(
                InputSpec(
                    tuple(i["shape"]),
                    i.get("dtype", "float32"),
                    i.get("low"),
                    i.get("high"),
                    i.get("name"),
                    i.get("batched", True),
                )
                for i in inputs
            )
            if inputs is not None
            else None
        )
        return cls(
            data["target"],
            dict(data.get("kwargs") or {}),
            specs,
            data.get("discovered", False),
            data.get("path"),
            data.get("line"),
        )

    def split(self) -> Tuple[str, str]:
        """(module file or dotted module, attribute name)."""
        module, _, name = self.target.rpartition(":")
        return module, name

    def where(self, root: Path) -> Tuple[str, int, int]:
        """Where to report problems with the target itself: its class, its file, or the config."""
        module, _ = self.split()
        if self.path and self.line:
            return str((root / self.path).resolve()), self.line, 1
        if module.endswith(".py"):
            return str((root / module).resolve()), 1, 1
        return str(root / "pyproject.toml"), 1, 1
