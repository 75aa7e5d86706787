"""`[tool.nnlint]` in the nearest pyproject.toml -> a frozen Config. Wrong keys or values raise ConfigError."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from nnlint.types import Severity

DEFAULT_EXCLUDE: Tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
    "node_modules", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".nnlint_cache", "site-packages", "__pypackages__", ".ipynb_checkpoints",
)


class ConfigError(Exception):
    """A configuration problem: the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class InputSpec:
    """One forward argument of a configured model."""

    shape: Tuple[int, ...]
    dtype: str = "float32"
    low: Optional[float] = None
    high: Optional[float] = None


@dataclass(frozen=True)
class ModelSpec:
    """A `[[tool.nnlint.models]]` entry, used by the graph and probe passes."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    input_shape: Optional[Tuple[int, ...]] = None
    inputs: Optional[Tuple[InputSpec, ...]] = None
    task: Optional[str] = None
    num_classes: Optional[int] = None
    loss: Optional[str] = None


@dataclass(frozen=True)
class Config:
    """Settings for one run; `root` is the folder of the pyproject.toml they came from (or None)."""

    path: Optional[Path] = None
    root: Optional[Path] = None
    select: Tuple[str, ...] = ("ALL",)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    models: Tuple[ModelSpec, ...] = ()
    graph: str = "auto"


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml at or above `start` that has a [tool.nnlint] table."""
    raise NotImplementedError


def load_config(paths: Sequence[Path], explicit: Optional[Path] = None) -> Config:
    """The Config for a run over `paths`: from `explicit`, else the nearest pyproject.toml, else defaults."""
    return Config()


def parse_table(table: Dict[str, Any], source: Path) -> Config:
    """Validate a [tool.nnlint] table into a Config; raise ConfigError naming the key on any problem."""
    raise NotImplementedError
