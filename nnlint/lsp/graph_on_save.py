"""The graph pass for a saved document, in the background: a `nnlint check` subprocess per save.

A subprocess (not a thread) because the graph pass imports the user's code and torch, may take
seconds, and must be stoppable at once when the file is saved again or the editor quits. It runs
the same command a user would, so config, model discovery and suppressions are exactly the CLI's. It runs only
when the editor opted in (initialization option `{"graph": true}`; see server.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, List

from nnlint.isolation.supervise import kill_group
from nnlint.types import Finding, Pass

Done = Callable[[str, List[Finding]], None]


class GraphOnSave:
    """At most one graph run per document; a new save stops the previous run of that document."""

    def __init__(self, done: Done) -> None:
        self._done = done
        self._running: Dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, uri: str, path: Path, cwd: Path) -> None:
        """Check the saved file at `path`; `done(uri, graph findings in it)` is called from a worker thread."""
        self.stop(uri)
        command = [
            sys.executable,
            "-m",
            "nnlint",
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--no-baseline",  # the editor shows every finding, static ones too: a configured baseline is for CI
            "--no-cache",
            "--jobs",
            "1",
            str(path),
        ]
        process = subprocess.Popen(
            command,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopping it also stops its graph workers
        )
        with self._lock:
            self._running[uri] = process
        threading.Thread(target=self._wait, args=(uri, path, cwd, process), daemon=True).start()

    def stop(self, uri: str) -> None:
        """Stop the run for `uri`, if any; its findings are never reported."""
        with self._lock:
            process = self._running.pop(uri, None)
        if process is not None:
            kill_group(process)

    def stop_all(self) -> None:
        """Stop every run (the server is exiting)."""
        with self._lock:
            uris = list(self._running)
        for uri in uris:
            self.stop(uri)

    def _wait(self, uri: str, path: Path, cwd: Path, process: subprocess.Popen) -> None:
        output, _ = process.communicate()
        with self._lock:
            if self._running.get(uri) is not process:
                return  # superseded by a newer save, or stopped
            del self._running[uri]
        self._done(uri, graph_findings(output, path, cwd))


def graph_findings(output: bytes, path: Path, cwd: Path) -> List[Finding]:
    """The non-static findings for `path` in `nnlint check --format json` output (empty if it failed)."""
    try:
        items = json.loads(output.decode("utf-8") or "[]")
    except (UnicodeDecodeError, ValueError):
        return []
    target = os.path.normcase(os.path.abspath(path))
    findings = []
    for item in items:
        if item.get("pass") == Pass.STATIC.value:
            continue
        if os.path.normcase(os.path.abspath(cwd / item["path"])) == target:
            findings.append(Finding.from_dict(item))
    return findings
