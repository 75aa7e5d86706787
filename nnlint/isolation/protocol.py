"""The files a parent and its worker share: the job (JSON) and the worker's events (JSON lines). No torch here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, TextIO, Tuple


@dataclass(frozen=True)
class Job:
    """What one worker runs: targets (plain data) under a project root, the rule codes and the kind's options."""

    root: str
    codes: Tuple[str, ...]
    targets: Tuple[Dict[str, Any], ...]
    options: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """Plain data for the job file."""
        return {"root": self.root, "codes": list(self.codes), "targets": list(self.targets), "options": self.options}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Job":
        """Inverse of to_dict."""
        return cls(data["root"], tuple(data["codes"]), tuple(data["targets"]), dict(data.get("options") or {}))

    def write(self, path: Path) -> None:
        """Write the job file the worker reads."""
        path.write_text(json.dumps(self.to_dict()), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Job":
        """The job a parent wrote."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def ready() -> Dict[str, Any]:
    """The worker has imported torch and warmed up: from now on only targets take time."""
    return {"event": "ready"}


def start(index: int) -> Dict[str, Any]:
    """The worker starts the job's target at `index`: its time limit starts now."""
    return {"event": "start", "index": index}


def done(index: int, result: Dict[str, Any]) -> Dict[str, Any]:
    """The target at `index` is finished; `result` is its kind's result as plain data."""
    return {"event": "done", "index": index, "result": result}


class EventWriter:
    """The worker's side of the results file: one flushed JSON line per event."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: Dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()


class EventReader:
    """The parent's side: the worker's events as they arrive. A line still being written (a large event
    arrives in several writes) waits for its newline."""

    def __init__(self, handle: TextIO) -> None:
        self.handle, self.partial = handle, ""

    def read(self) -> List[Dict[str, Any]]:
        """The events completed since the last call."""
        *lines, self.partial = (self.partial + self.handle.read()).split("\n")
        return [json.loads(line) for line in lines if line.strip()]
