"""Running targets in worker processes with a time limit per target and a memory cap (the parent's side).

Importing a user's file runs the user's code: it may exit, hang, crash, print without end or allocate
without bound. Each of these becomes an NN013 finding for that target; the other targets still run.
torch is imported once per worker, never in this (parent) process.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from nnlint.isolation import protocol
from nnlint.isolation.kind import R, WorkerKind
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.types import Location

STARTUP_SECONDS = 180.0  # importing torch on a cold, busy machine
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Limits:
    """Per-target time limit, worker memory cap (bytes, 0 = none) and number of worker processes."""

    seconds: float = 60.0
    memory: int = 0
    workers: int = 1

    @classmethod
    def for_machine(cls, seconds: float, max_workers: int = 4) -> "Limits":
        """Half the machine's memory per worker (no cap where unknown); one worker per core, at most
        `max_workers` (each imports torch)."""
        return cls(seconds, _half_the_memory(), max(1, min(max_workers, os.cpu_count() or 1)))


class Target(Protocol):
    """A model target as the supervisor needs it: a name, plain data for the worker, a place for aborts."""

    @property
    def target(self) -> str:
        """`file.py:Name` or `pkg.mod:Name`."""
        ...

    def to_json(self) -> Dict[str, Any]:
        """Plain data for the job file."""
        ...

    def where(self, root: Path) -> Tuple[str, int, int]:
        """Where to report an aborted run of this target."""
        ...


def run_isolated(
    kind: WorkerKind[R],
    targets: Sequence[Target],
    root: Path,
    codes: Sequence[str],
    limits: Limits = Limits(),
    options: Optional[Dict[str, Any]] = None,
) -> List[R]:
    """Run every target as a job of `kind` in isolated workers; the result list lines up with `targets`."""
    results: List[Optional[R]] = [None] * len(targets)
    workers = max(1, min(limits.workers, len(targets) // 4))  # a worker costs seconds to start: share it
    chunks = [list(range(len(targets)))[i::workers] for i in range(workers)]
    supervisor = _Supervisor(kind, targets, root, tuple(sorted(codes)), limits, options or {}, results)
    if workers == 1:
        supervisor.run_chunk(chunks[0])
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(supervisor.run_chunk, chunks))
    return [result if result is not None else kind.from_dict({}) for result in results]


class _Supervisor:
    """Runs chunks of targets, one worker at a time per chunk, and records each target's result."""

    def __init__(
        self,
        kind: WorkerKind[Any],
        targets: Sequence[Target],
        root: Path,
        codes: Tuple[str, ...],
        limits: Limits,
        options: Dict[str, Any],
        results: List[Any],
    ) -> None:
        self.kind, self.targets, self.root, self.codes = kind, targets, root, codes
        self.limits, self.options, self.results = limits, options, results

    def run_chunk(self, indices: List[int]) -> None:
        """Run these targets; a worker that dies takes only its current target with it, the next worker goes on."""
        pending = list(indices)
        while pending:
            self._run_worker(pending)
            remaining = [i for i in pending if self.results[i] is None]
            if len(remaining) == len(pending):  # the worker could not even start: do not loop forever
                for index in remaining:
                    self.results[index] = self._aborted(index, "the worker process failed to start")
                return
            pending = remaining

    def _run_worker(self, pending: List[int]) -> None:
        with tempfile.TemporaryDirectory(prefix=f"nnlint-{self.kind.name}-") as folder:
            job_file, results_file = Path(folder) / "job.json", Path(folder) / "results.jsonl"
            targets = tuple(self.targets[i].to_json() for i in pending)
            protocol.Job(str(self.root), self.codes, targets, self.options).write(job_file)
            results_file.touch()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nnlint.isolation.worker",
                    self.kind.reference,
                    str(job_file),
                    str(results_file),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_limit_memory(self.limits.memory),
                env=_worker_env(self.kind.env),
            )
            tail = _Tail(process.stderr)
            self._supervise(process, results_file, pending, tail)

    def _supervise(self, process: subprocess.Popen, results_file: Path, pending: List[int], tail: "_Tail") -> None:
        current: Optional[int] = None
        started = time.monotonic()
        ready = False
        with open(results_file, encoding="utf-8") as handle:
            events = protocol.EventReader(handle)
            while True:
                for event in events.read():
                    if event["event"] == "ready":
                        ready = True
                    elif event["event"] == "start":
                        current, started = pending[event["index"]], time.monotonic()
                    elif event["event"] == "done":
                        self.results[pending[event["index"]]] = self.kind.from_dict(event["result"])
                        current = None
                if process.poll() is not None:
                    for event in events.read():
                        if event["event"] == "done":
                            self.results[pending[event["index"]]] = self.kind.from_dict(event["result"])
                            current = None
                    break
                elapsed = time.monotonic() - started
                if current is not None and elapsed > self.limits.seconds:
                    kill_group(process)
                    self.results[current] = self._aborted(
                        current,
                        f"it did not finish within {self.limits.seconds:g} s (an endless loop or a very slow import?)",
                    )
                    return
                if not ready and elapsed > STARTUP_SECONDS:
                    kill_group(process)
                    return
                time.sleep(POLL_SECONDS)
        tail.join()
        if current is not None and self.results[current] is None:
            self.results[current] = self._aborted(current, _death(process.returncode, tail.text()))

    def _aborted(self, index: int, why: str) -> Any:
        target = self.targets[index]
        message = (
            f"Checking `{target.target}` was aborted: {why}. The other models were still checked. Make the module "
            f"importable and the model buildable without side effects, {self.kind.advice}."
        )
        location = Location(*target.where(self.root))
        return self.kind.aborted(ModelRunAborted.finding(location, message, self.kind.pass_))


def _death(code: Optional[int], stderr: str) -> str:
    """Why a worker ended early, in words, with the last line it wrote to stderr."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        why = f"the worker was killed by {name}" + (
            " (out of memory?)" if name == "SIGKILL" else " (a crash in native code?)"
        )
    else:
        why = f"the model's code ended the worker process with exit code {code} (os._exit or a crash)"
    last = [line for line in stderr.strip().splitlines() if line.strip()][-1:] if stderr.strip() else []
    return why + (f"; its last output: {last[0][:300]}" if last else "")


def kill_group(process: subprocess.Popen) -> None:
    """Kill a process started with `start_new_session=True` and whatever it started (its process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):  # AttributeError: no process groups (Windows)
        process.kill()
    process.wait()


def _half_the_memory() -> int:
    """Half the machine's physical memory in bytes (0 = unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    except (ValueError, OSError, AttributeError):
        return 0


def _limit_memory(limit: int) -> Optional[Callable[[], None]]:
    """A pre-exec hook capping the worker's address space (None where there is no cap or no rlimit)."""
    if not limit or sys.platform == "win32":
        return None

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _worker_env(defaults: Mapping[str, str]) -> Dict[str, str]:
    """This process's environment plus the kind's defaults, with nnlint importable from the worker."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    for name, value in defaults.items():
        env.setdefault(name, value)
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Tail:
    """Drains a worker's stderr in a thread, keeping only the last few kilobytes (user code may print megabytes)."""

    def __init__(self, stream, keep: int = 16384) -> None:
        self._chunks: Deque[bytes] = collections.deque()
        self._size, self._keep = 0, keep
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        for chunk in iter(lambda: stream.read(4096), b""):
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size > self._keep and len(self._chunks) > 1:
                self._size -= len(self._chunks.popleft())
        stream.close()

    def join(self) -> None:
        """Wait (briefly) for the rest of the worker's stderr."""
        self._thread.join(timeout=5)

    def text(self) -> str:
        """The last kilobytes of the worker's stderr."""
        return b"".join(self._chunks).decode("utf-8", "replace")
