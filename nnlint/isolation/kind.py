"""WorkerKind: what a worker does for one target of a pass, and what the parent makes of it. No torch here.

Each pass declares its kind in its own package (graph/isolated.py, probe/isolated.py); isolation keeps no
list of them. The worker finds a kind by its `reference`, so a new pass needs no change here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, Mapping, Protocol, TypeVar

from nnlint.isolation.protocol import Job
from nnlint.types import Finding, Pass


class JobResult(Protocol):
    """A pass's result for one target, sent from the worker as plain data."""

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (JSON) for the results file."""
        ...


R = TypeVar("R", bound=JobResult)


@dataclass(frozen=True)
class WorkerKind(Generic[R]):
    """A pass as worker jobs: the worker side runs in the worker (with torch), the parent side without."""

    name: str  # names the worker's temporary folder ("graph", "probe")
    reference: str  # "package.module:ATTRIBUTE" naming this object, for `python -m nnlint.isolation.worker`
    warm_up: Callable[[], None]  # worker: once, before any target's time limit starts (imports torch)
    run: Callable[[Job, Dict[str, Any]], R]  # worker: one target of the job (as plain data) -> its result
    from_dict: Callable[[Dict[str, Any]], R]  # parent: a result read back from the worker's events
    aborted: Callable[[Finding], R]  # parent: the result of a target whose worker hung or died (an NN013)
    pass_: Pass  # the pass that reports aborted targets
    advice: str  # how to avoid an abort; ends the NN013 message
    env: Mapping[str, str] = field(default_factory=dict)  # environment defaults for the worker process


def resolve(reference: str) -> WorkerKind[Any]:
    """The WorkerKind that `reference` ("package.module:ATTRIBUTE") names."""
    module, _, attribute = reference.partition(":")
    kind = getattr(importlib.import_module(module), attribute)
    if not isinstance(kind, WorkerKind):
        raise TypeError(f"{reference} is not a WorkerKind")
    return kind
