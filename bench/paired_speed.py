#!/usr/bin/env python
"""nnlint's cold static run against Fixit and TorchFix in pairs: each tool's run between two nnlint runs.

    python bench/paired_speed.py [--pairs 5] [--repeats 3]

On a shared machine the CPU's speed drifts over minutes, so ratios of medians taken from separate rounds
(static_speed.py) move by ~20% from one run to the next. Here every Fixit or TorchFix run is divided by the mean of
the nnlint figures just before and after it, and the median of those ratios is printed. An nnlint figure is the
median of `--repeats` runs back to back: one nnlint run lasts a tenth of a Fixit run, so a passing burst of load on
the machine moved single nnlint runs by up to 60% (3.7 to 6.9 CPU s in one session), where it averages out over a
Fixit run. Reuses what
`static_speed.py --quick` prepared: its virtual environment (corpus/speed-venv), its copy of the sources
(corpus/speed/work) and its list of the 60 timm files (corpus/speed/lists/quick.txt); nnlint runs from this
checkout (a snapshot compiled to bytecode, as an installed nnlint is), `--no-graph`, with an empty cache and
default jobs. CPU seconds are user + system of the finished child
processes, workers included.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

from static_speed import snapshot_nnlint  # the script's folder is first on sys.path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "corpus" / "speed" / "work"
LIST = REPO / "corpus" / "speed" / "lists" / "quick.txt"
TOOLS = REPO / "corpus" / "speed-venv" / "bin"


def cpu_seconds(command: Sequence[str], env: Dict[str, str]) -> float:
    shutil.rmtree(WORK / ".nnlint_cache", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=WORK, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="rounds of nnlint, Fixit, nnlint, TorchFix, nnlint")
    parser.add_argument("--repeats", type=int, default=3, help="nnlint runs per figure, their median (default 3)")
    args = parser.parse_args()
    if not (LIST.is_file() and (TOOLS / "fixit").is_file()):
        print(
            "run `python bench/static_speed.py --quick` once first (it prepares the tools and files)", file=sys.stderr
        )
        return 2
    files = LIST.read_text().split()
    snapshot = snapshot_nnlint(REPO / "corpus" / "speed" / "paired-snapshot", TOOLS / "python")
    nnlint = [str(TOOLS / "python"), "-m", "nnlint", "--no-graph", "--format", "json", "--exit-zero", *files]
    nnlint_env = {**os.environ, "PYTHONPATH": str(snapshot)}
    tool_env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    ours: List[float] = []
    ratios: Dict[str, List[float]] = {"fixit": [], "torchfix": []}
    seconds: Dict[str, List[float]] = {"fixit": [], "torchfix": []}

    def ours_now() -> float:
        return statistics.median(cpu_seconds(nnlint, nnlint_env) for _ in range(args.repeats))

    for round_index in range(args.pairs):
        line = [f"round {round_index + 1}:"]
        previous = ours_now()
        ours.append(previous)
        for tool, command in (
            ("fixit", [str(TOOLS / "fixit"), "lint", *files]),
            ("torchfix", [str(TOOLS / "torchfix"), *files]),
        ):
            theirs = cpu_seconds(command, tool_env)
            after = ours_now()
            ours.append(after)
            seconds[tool].append(theirs)
            ratios[tool].append(theirs / ((previous + after) / 2))
            line.append(f"{tool} {theirs:.2f} s = {ratios[tool][-1]:.2f}x nnlint ({previous:.2f}, {after:.2f})")
            previous = after
        print(" ".join(line), flush=True)
    print(f"{len(files)} files; nnlint median {statistics.median(ours):.2f} CPU s")
    for tool in ratios:
        print(
            f"{tool}: median {statistics.median(seconds[tool]):.2f} CPU s, "
            f"median ratio {statistics.median(ratios[tool]):.2f}x (range {min(ratios[tool]):.2f}-{max(ratios[tool]):.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
