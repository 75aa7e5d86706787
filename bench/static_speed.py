#!/usr/bin/env python
"""Speed of nnlint's static pass against bare libcst, TorchFix, Fixit and ruff, on real model code.

    python bench/static_speed.py                 # auto: the whole corpus, or a subset for TorchFix/Fixit if too slow
    python bench/static_speed.py --quick         # TorchFix/Fixit (and the nnlint run they are compared with) on a subset
    python bench/static_speed.py --full          # everything on the whole torchvision + timm corpus
    python bench/static_speed.py --profile       # also: where nnlint's cold time goes, per phase and per rule

One command does everything: it creates its own virtual environment (corpus/speed-venv: torchfix, fixit,
ruff and nnlint from this checkout, none of them dependencies of the project), reuses the package sources
unpacked under corpus/src/ or fetches them with `pip download --no-deps`, copies the .py files into a
scratch folder (corpus/speed/work/, so touching a file never changes the shared corpus), then times,
interleaved, several rounds of each measurement. It prints files, lines, wall and CPU seconds, lines per
CPU second and every ratio against nnlint, checks the goals of issue 6, and writes it all to --output
(default corpus/static_speed.json).

CPU seconds are user + system time of the finished child processes (getrusage(RUSAGE_CHILDREN)), worker
processes included: on a shared machine they are the figures to compare; wall seconds are reported too.
Each figure is the median of the rounds.

nnlint runs from a snapshot of this checkout's `nnlint/` taken at the start (on PYTHONPATH), not from the
checkout itself: the result cache is keyed on the modification times of nnlint's own files, so anyone
editing nnlint during the benchmark would turn every warm run into a cold one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
PACKAGES = {"torchvision": "torchvision", "timm": "timm"}
TOOLS = ("torchfix", "fixit", "ruff")
TOUCHED = "timm/models/resnet.py"  # the file "one changed file" changes: a typical large model file
QUICK_PACKAGE = "timm"
FULL_RUN_BUDGET_S = 15 * 60

GOALS = [
    # (name, figure, limit, comparison): figure is a ratio computed in `goal_figures`
    ("cold run >= 10x faster than Fixit (same files)", "fixit_over_nnlint_cold", 10.0, ">="),
    ("cold run >= 10x faster than TorchFix (same files)", "torchfix_over_nnlint_cold", 10.0, ">="),
    ("warm run >= 20x faster than nnlint's cold run", "cold_over_warm", 20.0, ">="),
    ("one changed file within 2x of linting that file alone", "touched_over_alone", 2.0, "<="),
    ("one-line file within 2x of `python -c 'import libcst'`", "one_line_over_import_libcst", 2.0, "<="),
    ("cold cost per parsed line within 2x of bare libcst.parse_module", "cold_per_parsed_line_over_libcst", 2.0, "<="),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- environment ------------------------------------------------------------------------------------
def ensure_venv(venv: Path, refresh: bool) -> Path:
    """The benchmark's own environment: torchfix, fixit, ruff and nnlint (editable, for its dependencies)."""
    python = venv / "bin" / "python"
    marker = venv / ".static-speed-ready"
    if refresh and venv.exists():
        shutil.rmtree(venv)
    if not marker.exists():
        log(f"creating {venv} (torchfix, fixit, ruff, nnlint -e {REPO})")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "torchfix", "fixit", "ruff", "-e", str(REPO)], check=True
        )
        marker.write_text("ok\n")
    return python


def tool_versions(python: Path, snapshot: Path, cwd: Path) -> Dict[str, str]:
    """Versions of every tool and of libcst in the benchmark environment."""
    code = (
        "import json, importlib.metadata as m, sys, nnlint\n"
        "names = ['libcst', 'torchfix', 'fixit', 'ruff']\n"
        "out = {n: m.version(n) for n in names}\n"
        "out['nnlint'] = getattr(nnlint, '__version__', '?') + ' (snapshot ' + nnlint.__file__ + ')'\n"
        "out['python'] = sys.version.split()[0]\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=_env(snapshot), check=True
    )
    return json.loads(result.stdout)


def snapshot_nnlint(destination: Path, python: Path) -> Path:
    """Copy this checkout's nnlint package (so edits made while the benchmark runs do not reach it), compiled to
    bytecode by the interpreter that will run it. An installed nnlint has its bytecode (pip compiles at install
    time, as it did for Fixit and TorchFix here); a copy without it would be compiled again in every run, ~0.3 CPU s
    per process, and never cached where PYTHONDONTWRITEBYTECODE is set."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(REPO / "nnlint", destination / "nnlint", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(python), "-m", "compileall", "-q", str(destination / "nnlint")], check=True)
    return destination


def git_state() -> str:
    """The checkout's commit, and whether nnlint/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "nnlint"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        return head + (" + uncommitted changes in nnlint/" if dirty else "")
    except OSError:
        return "?"


def _env(snapshot: Optional[Path]) -> Dict[str, str]:
    env = dict(os.environ)
    if snapshot is not None:
        env["PYTHONPATH"] = str(snapshot)
    env.pop("NNLINT_DEBUG", None)
    return env


# -- corpus -----------------------------------------------------------------------------------------
def package_source(dist: str, import_name: str, python: Path) -> Path:
    """The unpacked package folder under corpus/src/, downloaded with `pip download --no-deps` when missing."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from precision_corpus import download, package_folder, unpack  # the same corpus as the precision run

    for root in sorted((CORPUS / "src").glob(f"{dist}-*")):
        try:
            return package_folder(root, import_name)
        except RuntimeError:
            continue
    archive = download(dist, CORPUS / "downloads", str(python), refresh=False)
    return package_folder(unpack(archive, CORPUS / "src"), import_name)


def prepare_workspace(work: Path, python: Path) -> Dict[str, List[str]]:
    """Copy the packages' .py files into `work` (with a pyproject.toml: the project root for every tool)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "pyproject.toml").write_text("[tool.nnlint]\n")  # root marker; cache in work/.nnlint_cache
    files: Dict[str, List[str]] = {}
    for dist, import_name in PACKAGES.items():
        source = package_source(dist, import_name, python)
        found = []
        for path in sorted(source.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = Path(import_name) / path.relative_to(source)
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, work / relative)
            found.append(relative.as_posix())
        files[dist] = found
    return files


def quick_subset(files: Sequence[str], count: int) -> List[str]:
    """Every k-th file of the sorted list (models, layers and utilities alike), always with the touched file."""
    step = max(1, len(files) // count)
    chosen = list(files[::step][:count])
    if TOUCHED in files and TOUCHED not in chosen and chosen:
        chosen[-1] = TOUCHED
    return sorted(chosen)


def count_lines(work: Path, files: Sequence[str]) -> int:
    return sum((work / f).read_bytes().count(b"\n") for f in files)


# -- timing ---------------------------------------------------------------------------------------
def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    command: Sequence[str], cwd: Path, env: Dict[str, str], ok: Sequence[int] = (0, 1)
) -> Tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its children, stdout) of one run."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if result.returncode not in ok:
        raise RuntimeError(f"{' '.join(command[:4])} ... exited {result.returncode}:\n{result.stderr[-3000:]}")
    return wall, _children_cpu() - cpu, result.stdout


class Measurement:
    """One named measurement: its command, the files it covers, and the wall/CPU seconds of each round."""

    def __init__(
        self, name: str, files: int, lines: int, run: Callable[[int], Tuple[float, float, str]], note: str = ""
    ) -> None:
        self.name, self.files, self.lines, self.run, self.note = name, files, lines, run, note
        self.wall: List[float] = []
        self.cpu: List[float] = []
        self.extra: Dict[str, Any] = {}

    def once(self, round_index: int) -> None:
        wall, cpu, _ = self.run(round_index)
        self.wall.append(wall)
        self.cpu.append(cpu)

    def median(self, which: str) -> float:
        values = self.wall if which == "wall" else self.cpu
        return statistics.median(values) if values else float("nan")

    def as_dict(self) -> Dict[str, Any]:
        cpu = self.median("cpu")
        return {
            "files": self.files,
            "lines": self.lines,
            "note": self.note,
            "wall_s": self.median("wall"),
            "cpu_s": cpu,
            "lines_per_cpu_s": self.lines / cpu if cpu and self.lines else None,
            "rounds_wall_s": self.wall,
            "rounds_cpu_s": self.cpu,
            **self.extra,
        }


# -- the measurements -----------------------------------------------------------------------------
class Bench:
    """Builds and runs the measurements over one workspace."""

    def __init__(self, work: Path, python: Path, snapshot: Path, script_list: Path) -> None:
        self.work, self.python, self.snapshot = work, python, snapshot
        self.env = _env(snapshot)
        self.tool_env = _env(None)
        self.bin = python.parent
        self.lists = script_list
        self.touched_original = (work / TOUCHED).read_text(encoding="utf-8")

    def nnlint(self, files: Sequence[str], *options: str) -> List[str]:
        return [str(self.python), "-m", "nnlint", "--no-graph", "--format", "json", "--exit-zero", *options, *files]

    def file_list(self, name: str, files: Sequence[str]) -> Path:
        path = self.lists / f"{name}.txt"
        path.write_text("\n".join(files) + "\n")
        return path

    def cold(self, files: Sequence[str]) -> Callable[[int], Tuple[float, float, str]]:
        """nnlint with an empty result cache (it is written during the run, as on a first run)."""

        def run(_: int) -> Tuple[float, float, str]:
            self._restore_touched()
            shutil.rmtree(self.work / ".nnlint_cache", ignore_errors=True)
            return timed(self.nnlint(files), self.work, self.env)

        return run

    def no_cache(self, files: Sequence[str]) -> Callable[[int], Tuple[float, float, str]]:
        def run(_: int) -> Tuple[float, float, str]:
            return timed(self.nnlint(files, "--no-cache"), self.work, self.env)

        return run

    def warm(self, files: Sequence[str], measurement: "Measurement") -> Callable[[int], Tuple[float, float, str]]:
        """nnlint again with nothing changed; counts the cache entries it had to rewrite (misses)."""

        def run(_: int) -> Tuple[float, float, str]:
            self._prime(files)
            return self._timed_counting_misses(files, measurement)

        return run

    def touched(self, files: Sequence[str], measurement: "Measurement") -> Callable[[int], Tuple[float, float, str]]:
        """nnlint after appending a comment to one file (different in every round)."""

        def run(round_index: int) -> Tuple[float, float, str]:
            self._prime(files)
            (self.work / TOUCHED).write_text(
                self.touched_original + f"# touched in round {round_index} at {time.time()}\n", encoding="utf-8"
            )
            return self._timed_counting_misses(files, measurement)

        return run

    def _timed_counting_misses(self, files: Sequence[str], measurement: "Measurement") -> Tuple[float, float, str]:
        """One timed nnlint run, noting how many cache entries it rewrote (its misses)."""
        before = self._entry_times()
        result = timed(self.nnlint(files), self.work, self.env)
        after = self._entry_times()
        measurement.extra.setdefault("cache_misses", []).append(sum(1 for k, t in after.items() if before.get(k) != t))
        return result

    def alone(self) -> Callable[[int], Tuple[float, float, str]]:
        """nnlint on the touched file alone, nothing cached."""

        def run(_: int) -> Tuple[float, float, str]:
            return timed(self.nnlint([TOUCHED], "--no-cache"), self.work, self.env)

        return run

    def bare_libcst(
        self, files: Sequence[str], name: str, measurement: "Measurement"
    ) -> Callable[[int], Tuple[float, float, str]]:
        """A Python process that imports libcst, reads the files and parses each with libcst.parse_module."""
        listing = self.file_list(name, files)

        def run(_: int) -> Tuple[float, float, str]:
            wall, cpu, out = timed(
                [str(self.python), str(Path(__file__).resolve()), "--_bare-parse", str(listing)],
                self.work,
                self.tool_env,
                ok=(0,),
            )
            measurement.extra.setdefault("parse_only_cpu_s", []).append(json.loads(out)["parse_cpu_s"])
            return wall, cpu, out

        return run

    def tool(self, name: str, files: Sequence[str]) -> Callable[[int], Tuple[float, float, str]]:
        commands = {
            "torchfix": [str(self.bin / "torchfix"), *files],
            "fixit": [str(self.bin / "fixit"), "lint", *files],
            # ruff skips files ignored by git (corpus/ is); --no-cache for a cold run
            "ruff": [
                str(self.bin / "ruff"),
                "check",
                "--no-cache",
                "--no-respect-gitignore",
                "--isolated",
                "--exit-zero",
                "--output-format",
                "json",
                *files,
            ],
        }
        command = commands[name]

        def run(_: int) -> Tuple[float, float, str]:
            return timed(command, self.work, self.tool_env, ok=(0, 1))

        return run

    def one_line(self, folder: Path, cached: bool) -> Callable[[int], Tuple[float, float, str]]:
        def run(_: int) -> Tuple[float, float, str]:
            shutil.rmtree(folder / ".nnlint_cache", ignore_errors=True)
            options = [] if cached else ["--no-cache"]
            return timed([str(self.python), "-m", "nnlint", "--no-graph", *options, "one.py"], folder, self.env)

        return run

    def import_libcst(self, folder: Path) -> Callable[[int], Tuple[float, float, str]]:
        def run(_: int) -> Tuple[float, float, str]:
            return timed([str(self.python), "-c", "import libcst"], folder, self.tool_env, ok=(0,))

        return run

    def census(self, files: Sequence[str], name: str) -> Dict[str, int]:
        """Files and lines nnlint parses in a cold run (with and without the cache), from its own needle logic."""
        listing = self.file_list(name + "-census", files)
        result = subprocess.run(
            [str(self.python), str(Path(__file__).resolve()), "--_census", str(listing)],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    def _prime(self, files: Sequence[str]) -> None:
        """Make sure the cache holds every file as it is now (the touched file back to its original text)."""
        if self._restore_touched() or not (self.work / ".nnlint_cache").exists():
            subprocess.run(self.nnlint(files), cwd=self.work, env=self.env, stdout=subprocess.DEVNULL, check=False)

    def _restore_touched(self) -> bool:
        path = self.work / TOUCHED
        if path.read_text(encoding="utf-8") != self.touched_original:
            path.write_text(self.touched_original, encoding="utf-8")
            return True
        return False

    def _entry_times(self) -> Dict[str, int]:
        folder = self.work / ".nnlint_cache"
        return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} if folder.exists() else {}


def run_rounds(measurements: Sequence[Measurement], rounds: int) -> None:
    """Every measurement once per round, in turn, so slow drifts of the machine hit all of them alike."""
    for index in range(rounds):
        for measurement in measurements:
            log(f"  round {index + 1}/{rounds}: {measurement.name}")
            measurement.once(index)


# -- report ----------------------------------------------------------------------------------------
def table(results: Dict[str, Dict[str, Any]], reference: Dict[str, str]) -> str:
    """One row per measurement: files, lines, median wall and CPU seconds, lines/CPU-s, ratios to its nnlint reference."""
    rows = [("measurement", "files", "lines", "wall s", "CPU s", "lines/CPU s", "wall ratio", "CPU ratio", "vs")]
    for name, r in results.items():
        ref_name = reference.get(name)
        ref = results.get(ref_name) if ref_name else None
        ratio = lambda key, r=r, ref=ref: f"{r[key] / ref[key]:.2f}x" if ref and ref[key] else ""  # noqa: E731
        lps = f"{r['lines_per_cpu_s']:,.0f}" if r.get("lines_per_cpu_s") else ""
        rows.append(
            (
                name,
                str(r["files"]),
                f"{r['lines']:,}",
                f"{r['wall_s']:.2f}",
                f"{r['cpu_s']:.2f}",
                lps,
                ratio("wall_s"),
                ratio("cpu_s"),
                ref_name or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i in (0, 8) else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def goal_figures(
    results: Dict[str, Dict[str, Any]], census: Dict[str, Dict[str, int]], compare: str
) -> Dict[str, Dict[str, Optional[float]]]:
    """Each goal's figure, on CPU and on wall seconds."""

    def ratio(a: str, b: str, key: str) -> Optional[float]:
        if a not in results or b not in results or not results[b][key]:
            return None
        return results[a][key] / results[b][key]

    figures: Dict[str, Dict[str, Optional[float]]] = {}
    for key in ("cpu_s", "wall_s"):
        per_line = None
        cold, bare = results.get("nnlint cold (full)"), results.get("libcst.parse_module (full)")
        if cold and bare and census.get("full", {}).get("lines_cache"):
            per_line = (cold[key] / census["full"]["lines_cache"]) / (bare[key] / bare["lines"])
        figures[key] = {
            "fixit_over_nnlint_cold": ratio(f"fixit ({compare})", f"nnlint cold ({compare})", key),
            "torchfix_over_nnlint_cold": ratio(f"torchfix ({compare})", f"nnlint cold ({compare})", key),
            "cold_over_warm": ratio("nnlint cold (full)", "nnlint warm (full)", key),
            "touched_over_alone": ratio("nnlint one file changed (full)", "nnlint that file alone", key),
            "one_line_over_import_libcst": ratio("nnlint --no-graph one-line file", "python -c 'import libcst'", key),
            "cold_per_parsed_line_over_libcst": per_line,
        }
    return figures


def goal_lines(figures: Dict[str, Dict[str, Optional[float]]]) -> Tuple[List[str], List[Dict[str, Any]]]:
    lines, out = [], []
    for title, key, limit, comparison in GOALS:
        cpu, wall = figures["cpu_s"].get(key), figures["wall_s"].get(key)
        met = None if cpu is None else (cpu >= limit if comparison == ">=" else cpu <= limit)
        verdict = "n/a" if met is None else ("MET" if met else "NOT MET")
        show = lambda v: "-" if v is None else f"{v:.2f}x"  # noqa: E731
        lines.append(f"  {verdict:8} {title}: CPU {show(cpu)}, wall {show(wall)} (goal {comparison} {limit:g}x)")
        out.append(
            {
                "goal": title,
                "figure": key,
                "cpu_ratio": cpu,
                "wall_ratio": wall,
                "limit": limit,
                "comparison": comparison,
                "met_on_cpu": met,
            }
        )
    return lines, out


# -- worker modes (run inside the benchmark environment) ----------------------------------------------
def _bare_parse(listing: Path) -> None:
    import libcst

    files = [line for line in listing.read_text().splitlines() if line]
    texts = [Path(f).read_text(encoding="utf-8") for f in files]
    start = time.process_time()
    for text in texts:
        libcst.parse_module(text)
    print(json.dumps({"parse_cpu_s": time.process_time() - start}))


def _census(listing: Path) -> None:
    from nnlint import registry
    from nnlint.config import Config
    from nnlint.python_syntax import parses
    from nnlint.runner import Selection, selected_codes
    from nnlint.static.dispatch import rules_for_text
    from nnlint.static.project import class_names
    from nnlint.types import Pass

    rules = [rule for rule in registry.rules_for(selected_codes(Config(), Selection())) if Pass.STATIC in rule.passes]
    out = {"files": 0, "lines": 0, "files_cache": 0, "lines_cache": 0, "files_no_cache": 0, "lines_no_cache": 0}
    for name in (line for line in listing.read_text().splitlines() if line):
        text = Path(name).read_text(encoding="utf-8")
        lines = text.count("\n")
        out["files"] += 1
        out["lines"] += lines
        active = bool(rules_for_text(rules, text))
        broken = not active and not parses(text)
        if active or broken or class_names(text):  # with a cache, files defining classes are parsed for their summaries
            out["files_cache"] += 1
            out["lines_cache"] += lines
        if active or broken:  # without, only on demand (not counted: a lower bound)
            out["files_no_cache"] += 1
            out["lines_no_cache"] += lines
    print(json.dumps(out))


def _profile(listing: Path, output: Path, with_cprofile: bool) -> None:
    """Exclusive CPU time per phase and per rule of one serial cold run (cache on), then optionally cProfile."""
    import libcst

    from nnlint import python_syntax, registry
    from nnlint.config import Config
    from nnlint.rules import ALL_RULES
    from nnlint.runner import Selection, selected_codes
    from nnlint.static import analysis, cache_validation, engine, fastwalk, reading, semantics
    from nnlint.static import cache as cache_module
    from nnlint.static.project import ProjectIndex
    from nnlint.types import Pass

    files = [(Path(line), line) for line in listing.read_text().splitlines() if line]
    rules = [rule for rule in registry.rules_for(selected_codes(Config(), Selection())) if Pass.STATIC in rule.passes]
    totals: Dict[str, float] = {}
    calls: Dict[str, int] = {}
    stack: List[List[Any]] = []

    def wrap(function: Callable, label: str) -> Callable:
        def timed_call(*args, **kwargs):
            now = time.process_time()
            if stack:
                totals[stack[-1][0]] = totals.get(stack[-1][0], 0.0) + now - stack[-1][1]
            stack.append([label, now])
            try:
                return function(*args, **kwargs)
            finally:
                end = time.process_time()
                name, start = stack.pop()
                totals[name] = totals.get(name, 0.0) + end - start
                calls[name] = calls.get(name, 0) + 1
                if stack:
                    stack[-1][1] = end

        return timed_call

    # Each function is wrapped where the static pass's step modules look it up.
    reading.read_source = wrap(reading.read_source, "read + decode")
    python_syntax.parses = wrap(python_syntax.parses, "ast pre-parse (files no rule needs)")
    analysis.rules_for_text = wrap(analysis.rules_for_text, "needle scan")
    analysis.class_names = cache_validation.class_names = wrap(analysis.class_names, "class-name scan")
    analysis.class_summaries = wrap(analysis.class_summaries, "class summaries (for the cache)")
    cache_validation.digest = wrap(cache_validation.digest, "content hash")
    analysis.run_rules = wrap(analysis.run_rules, "rule dispatch (walk + hook calls, excl. hooks)")
    libcst.parse_module = wrap(libcst.parse_module, "libcst parse")
    semantics.FileSemantics.__init__ = wrap(semantics.FileSemantics.__init__, "semantics collect (one walk)")
    cache_module.Cache.store = wrap(cache_module.Cache.store, "cache write")
    original_wrapper = fastwalk.MetadataWrapper

    class TimedWrapper(original_wrapper):  # type: ignore[misc, valid-type]
        resolve = wrap(original_wrapper.resolve, "positions (PositionProvider)")

    fastwalk.MetadataWrapper = TimedWrapper
    for rule in ALL_RULES:
        for attribute in dir(rule):
            if attribute.startswith(("visit_", "leave_")):
                setattr(
                    rule,
                    attribute,
                    wrap(getattr(rule, attribute), f"rule {rule.code} ({rule.__module__.rsplit('.', 1)[-1]})"),
                )

    with tempfile.TemporaryDirectory() as folder:
        cache = cache_module.Cache(Path(folder), "profile")
        start = time.process_time()
        findings = engine.check_files(files, rules, ProjectIndex(), cache, workers=1)
        total = time.process_time() - start
    phases = sorted(totals.items(), key=lambda item: -item[1])
    report: Dict[str, Any] = {
        "files": len(files),
        "findings": len(findings),
        "cpu_s": total,
        "phases": [
            {"phase": name, "cpu_s": seconds, "share": seconds / total, "calls": calls.get(name, 0)}
            for name, seconds in phases
        ],
        "other_cpu_s": total - sum(totals.values()),
    }
    if with_cprofile:
        report["cprofile"] = _cprofile(files, rules)
    output.write_text(json.dumps(report, indent=1))


def _cprofile(files, rules) -> Dict[str, Any]:
    """cProfile of a second serial cold run: exclusive time per source module and the top functions.

    cProfile's own clock (a custom CPU-time timer would be called through Python on every event and
    multiply the run time), so on a loaded machine the seconds include waiting; the shares still hold.
    The timing wrappers of the first run are still in place, which adds a little to each wrapped call.
    """
    import cProfile
    import pstats

    from nnlint.static import cache as cache_module
    from nnlint.static import engine
    from nnlint.static.project import ProjectIndex

    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory() as folder:
        profiler.enable()
        engine.check_files(files, rules, ProjectIndex(), cache_module.Cache(Path(folder), "profile"), workers=1)
        profiler.disable()
    stats = pstats.Stats(profiler)
    per_module: Dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        module = _module_label(filename)
        per_module[module] = per_module.get(module, 0.0) + tottime
        functions.append(
            {"function": f"{module}:{line}({name})", "calls": calls, "tottime_s": tottime, "cumtime_s": cumtime}
        )
    total = sum(per_module.values())
    return {
        "total_s": total,
        "per_module": [
            {"module": m, "tottime_s": s, "share": s / total}
            for m, s in sorted(per_module.items(), key=lambda i: -i[1])[:30]
        ],
        "top_tottime": sorted(functions, key=lambda f: -f["tottime_s"])[:30],
        "top_cumtime": sorted(functions, key=lambda f: -f["cumtime_s"])[:40],
    }


def _module_label(filename: str) -> str:
    path = filename.replace("\\", "/")
    for marker in ("/nnlint/", "/libcst/"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    return path if path.startswith("<") else Path(path).name


# -- main -----------------------------------------------------------------------------------------
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="TorchFix and Fixit on a subset of timm (see --quick-files)")
    mode.add_argument("--full", action="store_true", help="TorchFix and Fixit on the whole corpus")
    parser.add_argument(
        "--quick-files", type=int, default=60, metavar="N", help="files in the quick subset (default 60)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement (default 3)")
    parser.add_argument(
        "--startup-rounds", type=int, default=10, help="rounds of the one-line-file measurements (default 10)"
    )
    parser.add_argument("--max-files", type=int, default=0, metavar="N", help="smoke test: at most N files per package")
    parser.add_argument("--skip", nargs="*", default=[], choices=TOOLS, help="leave these tools out")
    parser.add_argument(
        "--profile", action="store_true", help="also profile a serial cold run over timm (phases, rules, cProfile)"
    )
    parser.add_argument("--profile-only", action="store_true", help="only the profile")
    parser.add_argument(
        "--venv", type=Path, default=CORPUS / "speed-venv", help="benchmark environment (default corpus/speed-venv)"
    )
    parser.add_argument("--refresh-venv", action="store_true", help="recreate the environment")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=CORPUS / "speed",
        help="scratch folder: the copied corpus, the nnlint snapshot (default corpus/speed)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=CORPUS / "static_speed.json",
        help="JSON results (default corpus/static_speed.json)",
    )
    parser.add_argument("--_bare-parse", dest="bare_parse", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--_census", dest="census", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--_profile", dest="profile_worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_parse:
        _bare_parse(args.bare_parse)
        return 0
    if args.census:
        _census(args.census)
        return 0
    if args.profile_worker:
        _profile(Path(args.profile_worker[0]), Path(args.profile_worker[1]), args.profile_worker[2] == "1")
        return 0

    started = time.time()
    python = ensure_venv(args.venv.resolve(), args.refresh_venv)
    scratch = args.scratch.resolve()
    snapshot = snapshot_nnlint(scratch / "nnlint-snapshot", python)
    work = scratch / "work"
    packages = prepare_workspace(work, python)
    if args.max_files:
        packages = {dist: quick_subset(files, args.max_files) for dist, files in packages.items()}
    lists = scratch / "lists"
    lists.mkdir(exist_ok=True)
    versions = tool_versions(python, snapshot, work)
    bench = Bench(work, python, snapshot, lists)
    full = [f for dist in PACKAGES for f in packages[dist]]
    quick = quick_subset(packages[QUICK_PACKAGE], args.quick_files)
    full_lines, quick_lines = count_lines(work, full), count_lines(work, quick)
    log(
        f"corpus: {len(full)} files, {full_lines:,} lines (torchvision + timm); quick subset: {len(quick)} timm files, {quick_lines:,} lines"
    )
    log("tools: " + ", ".join(f"{k} {v}" for k, v in versions.items()))

    summary: Dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()},
        "versions": versions,
        "checkout": git_state(),
        "rounds": args.rounds,
        "corpus": {
            "full": {"files": len(full), "lines": full_lines, "packages": {d: len(f) for d, f in packages.items()}},
            "quick": {"files": len(quick), "lines": quick_lines, "subset_of": QUICK_PACKAGE, "list": quick},
        },
        "touched_file": TOUCHED,
        "commands": {
            "nnlint": "python -m nnlint --no-graph --format json --exit-zero FILES (cache in the scratch folder; cold = emptied first)",
            "torchfix": "torchfix FILES",
            "fixit": "fixit lint FILES",
            "ruff": "ruff check --no-cache --no-respect-gitignore --isolated --exit-zero --output-format json FILES",
            "libcst": "python: import libcst; libcst.parse_module(text) for each file, serially",
        },
    }

    if args.profile or args.profile_only:
        summary["profile"] = profile(python, snapshot, work, lists, packages[QUICK_PACKAGE])
        print(profile_text(summary["profile"]))
        if args.profile_only:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(summary, indent=1))
            return 0

    tools = [t for t in TOOLS if t not in args.skip]
    slow = [t for t in tools if t in ("torchfix", "fixit")]
    compare = "quick" if args.quick else "full" if args.full else None
    if compare is None:  # auto: time the slow tools once on the subset, and extrapolate
        estimate = 0.0
        for name in slow:
            wall, _, _ = bench.tool(name, quick)(0)
            estimate += wall * full_lines / quick_lines * args.rounds
        compare = "quick" if estimate > FULL_RUN_BUDGET_S else "full"
        summary["auto_choice"] = {
            "estimated_full_s_for_slow_tools": estimate,
            "budget_s": FULL_RUN_BUDGET_S,
            "chosen": compare,
        }
        log(
            f"auto: TorchFix + Fixit on the whole corpus would take about {estimate / 60:.0f} min -> {compare} comparison"
        )
    compare_files = quick if compare == "quick" else full
    compare_lines = quick_lines if compare == "quick" else full_lines

    measurements: List[Measurement] = []
    reference: Dict[str, str] = {}

    def add(
        name: str,
        files: int,
        lines: int,
        make: Callable[[Measurement], Callable],
        ref: Optional[str] = None,
        note: str = "",
    ) -> Measurement:
        measurement = Measurement(name, files, lines, lambda i: (0.0, 0.0, ""), note)
        measurement.run = make(measurement)
        measurements.append(measurement)
        if ref:
            reference[name] = ref
        return measurement

    ref_full = "nnlint cold (full)"
    add(ref_full, len(full), full_lines, lambda m: bench.cold(full))
    add("nnlint --no-cache (full)", len(full), full_lines, lambda m: bench.no_cache(full), ref_full)
    add("nnlint warm (full)", len(full), full_lines, lambda m: bench.warm(full, m), ref_full)
    add(
        "nnlint one file changed (full)",
        len(full),
        full_lines,
        lambda m: bench.touched(full, m),
        ref_full,
        note=TOUCHED,
    )
    add(
        "nnlint that file alone",
        1,
        count_lines(work, [TOUCHED]),
        lambda m: bench.alone(),
        "nnlint one file changed (full)",
        note="--no-cache " + TOUCHED,
    )
    add("libcst.parse_module (full)", len(full), full_lines, lambda m: bench.bare_libcst(full, "full", m), ref_full)
    if "ruff" in tools:
        add("ruff (full)", len(full), full_lines, lambda m: bench.tool("ruff", full), ref_full)
    ref_compare = ref_full
    if compare == "quick":
        ref_compare = "nnlint cold (quick)"
        add(ref_compare, len(quick), quick_lines, lambda m: bench.cold(quick))
        add(
            "libcst.parse_module (quick)",
            len(quick),
            quick_lines,
            lambda m: bench.bare_libcst(quick, "quick", m),
            ref_compare,
        )
    for name in slow:
        add(
            f"{name} ({compare})",
            len(compare_files),
            compare_lines,
            lambda m, name=name: bench.tool(name, compare_files),
            ref_compare,
        )

    log(f"{args.rounds} interleaved rounds of {len(measurements)} measurements")
    run_rounds(measurements, args.rounds)

    startup_dir = lists / "one-line"
    startup_dir.mkdir(exist_ok=True)
    (startup_dir / "one.py").write_text("x = 1\n")
    (startup_dir / "pyproject.toml").write_text("[tool.nnlint]\n")
    ref_import = "python -c 'import libcst'"
    startup = [
        add(ref_import, 0, 0, lambda m: bench.import_libcst(startup_dir)),
        add(
            "nnlint --no-graph one-line file",
            1,
            1,
            lambda m: bench.one_line(startup_dir, cached=True),
            ref_import,
            note="fresh cache folder",
        ),
        add(
            "nnlint --no-graph --no-cache one-line file",
            1,
            1,
            lambda m: bench.one_line(startup_dir, cached=False),
            ref_import,
        ),
    ]
    log(f"{args.startup_rounds} interleaved rounds of the one-line-file measurements")
    run_rounds(startup, args.startup_rounds)

    census = {"full": bench.census(full, "full")}
    if compare == "quick":
        census["quick"] = bench.census(quick, "quick")
    results = {m.name: m.as_dict() for m in measurements}
    figures = goal_figures(results, census, compare)
    goals_text, goals = goal_lines(figures)
    summary.update(
        {
            "comparison_corpus": compare,
            "results": results,
            "reference": reference,
            "census": census,
            "goals": goals,
            "load_avg_at_end": os.getloadavg(),
            "seconds": time.time() - started,
        }
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=1))

    print(
        f"nnlint static pass speed — {os.cpu_count()} CPUs, load average {summary['machine']['load_avg_at_start'][0]:.1f} at start; "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "nnlint")
    )
    print(
        f"corpus: torchvision + timm, {len(full)} files, {full_lines:,} lines; TorchFix/Fixit compared on "
        + (
            "the whole corpus"
            if compare == "full"
            else f"the quick subset ({len(quick)} timm files, {quick_lines:,} lines)"
        )
    )
    print(
        f"median of {args.rounds} rounds ({args.startup_rounds} for one-line files); ratio = this / the nnlint run in 'vs'\n"
    )
    print(table(results, reference))
    print(
        f"\nparsed by nnlint's cold run (needles, class summaries): {census['full']['files_cache']} of {census['full']['files']} files, "
        f"{census['full']['lines_cache']:,} of {census['full']['lines']:,} lines"
    )
    for name in ("nnlint warm (full)", "nnlint one file changed (full)"):
        print(f"{name}: cache misses per round {results[name].get('cache_misses')}")
    print("\ngoals (judged on CPU seconds):")
    print("\n".join(goals_text))
    print(f"\nwritten to {args.output}")
    return 0


def profile(python: Path, snapshot: Path, work: Path, lists: Path, files: Sequence[str]) -> Dict[str, Any]:
    """Run the profile worker in the benchmark environment over the given files (serially, cold, cache on)."""
    listing = lists / "profile.txt"
    listing.write_text("\n".join(files) + "\n")
    output = lists / "profile.json"
    log(f"profiling a serial cold run over {len(files)} files (twice: timing wrappers, then cProfile)")
    subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--_profile", str(listing), str(output), "1"],
        cwd=work,
        env=_env(snapshot),
        check=True,
    )
    return json.loads(output.read_text())


def profile_text(report: Dict[str, Any]) -> str:
    lines = [
        f"profile: serial cold run (cache on) over {report['files']} files: {report['cpu_s']:.1f} CPU s",
        "  exclusive CPU per phase / rule hook:",
    ]
    for phase in report["phases"][:30]:
        lines.append(
            f"    {phase['cpu_s']:8.2f} s {phase['share'] * 100:5.1f}%  {phase['phase']}  ({phase['calls']:,} calls)"
        )
    lines.append(f"    {report['other_cpu_s']:8.2f} s         other (engine glue, project index)")
    if "cprofile" in report:
        lines.append(
            f"  cProfile ({report['cprofile']['total_s']:.1f} s with profiling overhead): exclusive time per module"
        )
        for item in report["cprofile"]["per_module"][:20]:
            lines.append(f"    {item['tottime_s']:8.2f} s {item['share'] * 100:5.1f}%  {item['module']}")
        lines.append("  top functions by exclusive time")
        for item in report["cprofile"]["top_tottime"][:15]:
            lines.append(f"    {item['tottime_s']:8.2f} s  {item['calls']:>10,}  {item['function']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
