"""Peak memory of the static pass over a large tree of real code: the whole run, workers included.

Issue 13 asks for a static run over ~10,000 files (a site-packages with torch, torchvision, timm and
transformers) to stay under 1 GB peak RSS. This script runs `nnlint --no-graph --no-cache` over the given
folders in a child process, samples the memory of that process and all its descendants (the worker pool)
every 0.1 s from /proc, and prints the peak of their summed RSS and PSS (shared pages split between the
processes that share them: the whole run's real footprint), the largest single process, the CPU seconds and
the number of files and findings.

    python bench/static_memory.py FOLDER [FOLDER ...] [--jobs N] [--keep-parsed BYTES] [--save FINDINGS.json]

Folders default to the installed torch, torchvision (if any), timm and transformers packages of this
interpreter. `--keep-parsed` overrides nnlint.static.analysis.KEEP_PARSED (source bytes of parsed trees a
worker keeps) to see the trade between memory and CPU. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from measure import children_cpu

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def default_folders() -> List[Path]:
    import importlib.util

    found = []
    for name in ("torch", "torchvision", "timm", "transformers"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found.append(Path(list(spec.submodule_search_locations)[0]))
    return found


def tree_memory(root: int) -> Tuple[int, int, int]:
    """(sum of RSS, sum of PSS, largest RSS) in bytes of `root` and its descendants, now. Forked workers share
    the parent's pages (the source texts), which RSS counts once per process; PSS splits them between sharers."""
    parents: Dict[int, int] = {}
    rss: Dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * PAGE
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    sizes = [rss.get(pid, 0) for pid in members]
    return sum(sizes), sum(_pss(pid) for pid in members), max(sizes, default=0)


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "r") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run(folders: List[Path], jobs: int, keep_parsed: Optional[int], save: Optional[Path] = None) -> Dict[str, object]:
    setup = "" if keep_parsed is None else f"import nnlint.static.analysis as a; a.KEEP_PARSED = {keep_parsed}; "
    code = setup + "import sys; from nnlint.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code, "--no-graph", "--no-cache", "--format", "json", "--exit-zero"]
    command += ["--jobs", str(jobs), *map(str, folders)]
    before = children_cpu()
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = peak_pss = peak_one = 0
    chunks: List[str] = []
    errors: List[str] = []
    readers = [
        threading.Thread(target=lambda: chunks.append(process.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: errors.append(process.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    while process.poll() is None:
        total, proportional, largest = tree_memory(process.pid)
        peak_sum, peak_pss, peak_one = max(peak_sum, total), max(peak_pss, proportional), max(peak_one, largest)
        time.sleep(0.1)
    for reader in readers:
        reader.join()
    wall = time.monotonic() - start
    findings = json.loads(chunks[0] or "[]") if process.returncode in (0, 1) else []
    if save is not None:  # to compare two versions' findings on the same tree
        save.write_text(json.dumps(findings, indent=1, sort_keys=True), encoding="utf-8")
    files = sum(1 for folder in folders for _ in folder.rglob("*.py"))
    return {
        "folders": [str(f) for f in folders],
        "files": files,
        "jobs": jobs,
        "keep_parsed": keep_parsed,
        "exit": process.returncode,
        "findings": len(findings) if isinstance(findings, list) else None,
        "peak_rss_mb": round(peak_sum / 2**20),
        "peak_pss_mb": round(peak_pss / 2**20),
        "largest_process_mb": round(peak_one / 2**20),
        "cpu_s": round(children_cpu() - before, 1),
        "wall_s": round(wall, 1),
        "stderr_tail": "".join(errors)[-500:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=0, help="nnlint's --jobs (default 0: one per core)")
    parser.add_argument("--keep-parsed", type=int, default=None, help="override analysis.KEEP_PARSED (bytes)")
    parser.add_argument("--save", type=Path, default=None, help="write the findings (JSON) to this file")
    args = parser.parse_args()
    folders = args.folders or default_folders()
    result = run(folders, args.jobs, args.keep_parsed, args.save)
    print(json.dumps(result, indent=2))
    print(
        f"\n{result['files']} files, {result['findings']} findings: peak RSS {result['peak_rss_mb']} MB, "
        f"PSS {result['peak_pss_mb']} MB (largest process {result['largest_process_mb']} MB), "
        f"{result['cpu_s']} CPU s, {result['wall_s']} s wall"
    )


if __name__ == "__main__":
    main()
