"""Running model targets in worker processes with a time limit per target and a memory cap.

The job kind selects the worker: "graph" (meta-device wiring checks) or "probe" (real training steps).

Importing a user's file runs the user's code: it may exit, hang, crash, print without end or
allocate without bound. Each of these becomes an NN013 finding for that target; the other targets
still run. torch is imported once per worker, never in this (parent) process.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Sequence

from nnlint.graph.targets import GraphTarget
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.types import Finding, Location, Pass

STARTUP_SECONDS = 180.0  # importing torch on a cold, busy machine
POLL_SECONDS = 0.02


@dataclass
class TargetOutcome:
    """What the worker reported for one target (findings have absolute paths)."""

    findings: List[Finding] = field(default_factory=list)
    method: str = ""
    input: str = ""
    seconds: float = 0.0
    summary: List[Dict[str, Any]] = field(default_factory=list)
    report: Dict[str, Any] = field(default_factory=dict)  # the probe's report, as plain data
    timings: Dict[str, float] = field(default_factory=dict)  # seconds per phase of a graph check


@dataclass(frozen=True)
class Limits:
    """Per-target time limit, worker memory cap (bytes, 0 = none) and number of worker processes."""

    seconds: float = 60.0
    memory: int = 0
    workers: int = 1


# kind -> (worker module, pass that reports aborts, how to skip that pass)
KINDS = {
    "graph": ("nnlint.graph.worker", Pass.GRAPH, "or skip it with `--no-graph`"),
    "probe": (
        "nnlint.probe.worker",
        Pass.PROBE,
        "or give it more time (`--timeout`), a smaller batch (`--input-shape`) or fewer `--steps`",
    ),
}


def run_targets(
    targets: Sequence[GraphTarget],
    root: Path,
    codes: Sequence[str],
    limits: Limits = Limits(),
    summary: bool = False,
    kind: str = "graph",
    options: Optional[Dict[str, Any]] = None,
) -> List[TargetOutcome]:
    """Check every target in isolated workers of a job `kind`; the result list lines up with `targets`."""
    outcomes: List[Optional[TargetOutcome]] = [None] * len(targets)
    workers = max(1, min(limits.workers, len(targets) // 4))  # a worker costs seconds to start: share it
    chunks = [list(range(len(targets)))[i::workers] for i in range(workers)]
    job = _Job(targets, root, sorted(codes), limits, summary, outcomes, kind, options or {})
    if workers == 1:
        job.run_chunk(chunks[0])
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(job.run_chunk, chunks))
    return [outcome or TargetOutcome() for outcome in outcomes]


class _Job:
    def __init__(self, targets, root, codes, limits, summary, outcomes, kind, options) -> None:
        self.targets, self.root, self.codes, self.limits, self.summary = targets, root, codes, limits, summary
        self.outcomes, self.kind, self.options = outcomes, kind, options

    def run_chunk(self, indices: List[int]) -> None:
        pending = list(indices)
        while pending:
            self._run_worker(pending)
            remaining = [i for i in pending if self.outcomes[i] is None]
            if len(remaining) == len(pending):  # the worker could not even start: do not loop forever
                for index in remaining:
                    self.outcomes[index] = self._aborted(index, "the worker process failed to start")
                return
            pending = remaining

    def _run_worker(self, pending: List[int]) -> None:
        with tempfile.TemporaryDirectory(prefix=f"nnlint-{self.kind}-") as folder:
            job_file, results_file = Path(folder) / "job.json", Path(folder) / "results.jsonl"
            job_file.write_text(
                json.dumps(
                    {
                        "root": str(self.root),
                        "codes": self.codes,
                        "targets": [self.targets[i].to_json() for i in pending],
                        "summary": self.summary,
                        "options": self.options,
                    }
                ),
                encoding="utf-8",
            )
            results_file.touch()
            process = subprocess.Popen(
                [sys.executable, "-m", KINDS[self.kind][0], str(job_file), str(results_file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_limit_memory(self.limits.memory),
                env=_worker_env(self.kind),
            )
            tail = _Tail(process.stderr)
            self._supervise(process, results_file, pending, tail)

    def _supervise(self, process: subprocess.Popen, results_file: Path, pending: List[int], tail: "_Tail") -> None:
        current: Optional[int] = None
        started = time.monotonic()
        ready = False
        with open(results_file, encoding="utf-8") as handle:
            results = _Events(handle)
            while True:
                for event in results.read():
                    if event["event"] == "ready":
                        ready = True
                    elif event["event"] == "start":
                        current, started = pending[event["index"]], time.monotonic()
                    elif event["event"] == "done":
                        self.outcomes[pending[event["index"]]] = _outcome(event)
                        current = None
                if process.poll() is not None:
                    for event in results.read():
                        if event["event"] == "done":
                            self.outcomes[pending[event["index"]]] = _outcome(event)
                            current = None
                    break
                elapsed = time.monotonic() - started
                if current is not None and elapsed > self.limits.seconds:
                    _kill(process)
                    self.outcomes[current] = self._aborted(
                        current,
                        f"it did not finish within {self.limits.seconds:g} s (an endless loop or a very slow import?)",
                    )
                    return
                if not ready and elapsed > STARTUP_SECONDS:
                    _kill(process)
                    return
                time.sleep(POLL_SECONDS)
        tail.join()
        if current is not None and self.outcomes[current] is None:
            self.outcomes[current] = self._aborted(current, _death(process.returncode, tail.text()))

    def _aborted(self, index: int, why: str) -> TargetOutcome:
        target = self.targets[index]
        message = (
            f"Checking `{target.target}` was aborted: {why}. The other models were still checked. Make the module "
            f"importable and the model buildable without side effects, {KINDS[self.kind][2]}."
        )
        location = Location(*target.where(self.root))
        return TargetOutcome([ModelRunAborted.finding(location, message, KINDS[self.kind][1])])


class _Events:
    """The worker's JSON lines as they arrive; a line still being written (a large event arrives in
    several writes) waits for its newline."""

    def __init__(self, handle) -> None:
        self.handle, self.partial = handle, ""

    def read(self) -> List[Dict[str, Any]]:
        *lines, self.partial = (self.partial + self.handle.read()).split("\n")
        return [json.loads(line) for line in lines if line.strip()]


def _outcome(event: Dict[str, Any]) -> TargetOutcome:
    return TargetOutcome(
        [Finding.from_dict(item) for item in event.get("findings", [])],
        event.get("method", ""),
        event.get("input", ""),
        event.get("seconds", 0.0),
        event.get("summary") or [],
        event.get("report") or {},
        event.get("timings") or {},
    )


def _death(code: Optional[int], stderr: str) -> str:
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


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def _limit_memory(limit: int):
    if not limit or sys.platform == "win32":
        return None

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _worker_env(kind: str = "graph") -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if kind == "graph":
        env.setdefault("OMP_NUM_THREADS", "1")  # meta tensors need no compute threads; the probe computes
    else:
        # Spinning OpenMP threads burn ~10x the CPU time when the machine is busy (CI runners, parallel jobs).
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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
        self._thread.join(timeout=5)

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")
