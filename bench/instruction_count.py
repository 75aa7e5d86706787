#!/usr/bin/env python
"""Instructions executed by nnlint's cold static run, counted by valgrind: a speed figure that does not drift.

    python bench/instruction_count.py [--rev REV ...] [--files N] [--jobs J]

CPU seconds on a shared machine moved by up to 60% between two runs of the same nnlint in one session
(paired_speed.py), so a change that saves 10% cannot be told from noise by timing it. `valgrind --tool=callgrind`
counts the instructions every process of a run executes (workers included): the same count for the same code,
files and interpreter, whatever else the machine does. Each REV (a git revision; `.` is the working tree, the
default) is copied out of this checkout, compiled to bytecode, and run cold (empty cache) over the first N files of
the quick subset that `static_speed.py --quick` prepared, in its virtual environment. Instructions are not time:
the parse allocates much more per instruction than the rules, so a saving outside the parse shows less in seconds.
A run takes about 50x its normal time (a minute for 15 files).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

from static_speed import snapshot_nnlint  # the script's folder is first on sys.path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "corpus" / "speed" / "work"
LIST = REPO / "corpus" / "speed" / "lists" / "quick.txt"
PYTHON = REPO / "corpus" / "speed-venv" / "bin" / "python"
_COLLECTED = re.compile(r"Collected : (\d+)")


def snapshot(rev: str, scratch: Path) -> Path:
    """nnlint as of `rev` (`.`: the working tree), compiled to bytecode, under `scratch`."""
    destination = scratch / (rev.replace("/", "_") if rev != "." else "working-tree")
    if rev == ".":
        return snapshot_nnlint(destination, PYTHON)
    destination.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev, "nnlint"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", str(destination / "nnlint")], check=True)
    return destination


def instructions(package: Path, files: List[str], jobs: int) -> int:
    """Instructions of every process of one cold run (valgrind follows forked workers)."""
    shutil.rmtree(WORK / ".nnlint_cache", ignore_errors=True)
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(PYTHON), "-m", "nnlint"]
    command += ["--no-graph", "--format", "json", "--exit-zero", "--jobs", str(jobs), *files]
    env = {**os.environ, "PYTHONPATH": str(package)}
    done = subprocess.run(command, cwd=WORK, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    counts = [int(count) for count in _COLLECTED.findall(done.stderr)]
    if not counts:
        raise SystemExit(f"valgrind reported nothing:\n{done.stderr[-2000:]}")
    return sum(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", nargs="+", default=["."], help="git revisions to count; `.` is the working tree")
    parser.add_argument("--files", type=int, default=15, help="the first N files of the quick subset (default 15)")
    parser.add_argument("--jobs", type=int, default=1, help="nnlint's --jobs (default 1: one process)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or not (LIST.is_file() and PYTHON.is_file()):
        print(
            "needs valgrind, and `python bench/static_speed.py --quick` run once (it prepares the files)",
            file=sys.stderr,
        )
        return 2
    files = LIST.read_text().split()[: args.files]
    with tempfile.TemporaryDirectory() as scratch:
        first = None
        for rev in args.rev:
            count = instructions(snapshot(rev, Path(scratch)), files, args.jobs)
            first = first or count
            print(f"{rev}: {count / 1e9:.3f} G instructions ({count / first:.3f} of {args.rev[0]})", flush=True)
    print(f"{len(files)} files of {LIST.name}, cold, --jobs {args.jobs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
