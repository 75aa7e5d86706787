#!/usr/bin/env python
"""Recall on reconstructed bug reports: run nnlint on every case of bench/recall/ and its fixed twin.

Each case folder holds a bug (`bug.py`, or a `bug/` project folder), its fixed twin (`fixed.py` or `fixed/`) and
`case.toml`: the expected code, the pass that should see it, the bug line, the report it was reconstructed from
(see bench/README.md). A case is *found* when the expected code is reported within +-2 lines of the bug line in the
right file (or at one of the `also_at` places: where the mismatched pair meets, e.g. the loss call). On the fixed
twin, any finding of the expected code is a false finding, and other warnings and errors are listed to judge.

    .venv/bin/python bench/recall.py                       # every case, 2 workers
    .venv/bin/python bench/recall.py --pass static -j 4    # static cases only (about a minute on 2 cores)
    .venv/bin/python bench/recall.py --code NN201,NN4 --json corpus/recall.json
    .venv/bin/python bench/recall.py --only mnist -v       # cases whose folder name contains "mnist", with findings
    .venv/bin/python bench/recall.py --compare bench/recall/baseline.json   # what changed since the saved baseline

Every run is a separate `python -m nnlint` process with this checkout first on PYTHONPATH, started in the case's
folder, with `--no-cache --format json --exit-zero`: static cases with `--no-graph`, graph cases with the pass's
options (`--model`, `--input-shape`, `--kwargs`), probe cases through `nnlint probe TARGET` (or through
`nnlint.probe(model, optimizer=...)` when the case's bug is in how it builds its optimizer).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev venv is 3.11, nnlint itself supports 3.9
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "bench" / "recall"
PASSES = ("static", "graph", "probe")
LINE_TOLERANCE = 2
TIMEOUTS = {"static": 120, "graph": 240, "probe": 300}
JUDGED_SEVERITIES = ("warning", "error")

# Probe cases whose bug is in the user's optimizer run through the Python API: `[probe] optimizer = "bug.py:make"`
# names the case's own function that builds the optimizer from the model, as the user's training script does.
API_DRIVER = """
import importlib.util, json, sys
import torch
import nnlint

options = json.loads(sys.argv[1])
sys.path.insert(0, ".")


def load(target):
    path, name = target.rsplit(":", 1)
    spec = importlib.util.spec_from_file_location(path[:-3].replace("/", "_"), path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so that inspect finds the source of the model's class
    spec.loader.exec_module(module)
    return getattr(module, name)


torch.manual_seed(options.get("seed", 0))
model = load(options["target"])(**options.get("kwargs", {}))
optimizer = load(options["optimizer"])(model)
inputs = torch.randn(*options["input_shape"]) if "input_shape" in options else None
report = nnlint.probe(
    model, inputs=inputs, task=options.get("task"), num_classes=options.get("num_classes"), optimizer=optimizer
)
print(json.dumps([finding.to_dict() for finding in report.findings]))
"""


@dataclass(frozen=True)
class Case:
    """One reconstructed report: where it lives and what nnlint should say about it."""

    name: str
    folder: Path
    meta: Dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.meta["code"])

    @property
    def pass_(self) -> str:
        return str(self.meta["pass"])

    @property
    def multi_file(self) -> bool:
        return (self.folder / "bug").is_dir()

    def places(self) -> List[Tuple[str, int]]:
        """(file, line) pairs where a finding of the expected code counts, paths relative to the variant's root."""
        found = [(str(self.meta["file"]), int(self.meta["line"]))]
        found += [(str(path), int(line)) for path, line in self.meta.get("also_at", [])]
        return found


@dataclass
class Run:
    """nnlint's findings on one variant (bug or fixed) of a case."""

    findings: List[Dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    failure: Optional[str] = None  # the process failed, timed out or printed no JSON


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_cases(root: Path = CORPUS) -> List[Case]:
    """Every case under `root`, sorted by folder name."""
    cases = []
    for toml_path in sorted(root.glob("*/case.toml")):
        with toml_path.open("rb") as handle:
            cases.append(Case(toml_path.parent.name, toml_path.parent, tomllib.load(handle)))
    return cases


def _variant(case: Case, variant: str) -> Tuple[Path, List[str], str]:
    """(working folder, paths to name on the command line, file name that stands for `bug.py`) of a variant."""
    if case.multi_file:
        return case.folder / variant, list(case.meta.get("check", [])), ""
    return case.folder, [f"{variant}.py"], f"{variant}.py"


def _target(case: Case, options: Dict[str, Any], own_file: str) -> Optional[str]:
    target = options.get("target")
    if target is None:
        return None
    return str(target).replace("bug.py", own_file) if own_file else str(target)


def _shape_arg(shape: Sequence[int]) -> str:
    return ",".join(str(dim) for dim in shape)


def command(case: Case, variant: str) -> Tuple[Path, List[str]]:
    """The folder to run in and the nnlint command line for one variant of a case."""
    cwd, paths, own_file = _variant(case, variant)
    options = dict(case.meta.get(case.pass_, {}))
    base = [sys.executable, "-m", "nnlint"]
    common = ["--format", "json", "--exit-zero"]
    if case.pass_ == "probe" and "optimizer" in options:
        options["target"] = _target(case, options, own_file)
        options["optimizer"] = _target(case, {"target": options["optimizer"]}, own_file)
        return cwd, [sys.executable, "-c", API_DRIVER, json.dumps(options)]
    if case.pass_ == "probe":
        cmd = base + ["probe", str(_target(case, options, own_file))] + common
        if "input_shape" in options:
            cmd += ["--input-shape", _shape_arg(options["input_shape"])]
        if "kwargs" in options:
            cmd += ["--kwargs", json.dumps(options["kwargs"])]
        for key in ("task", "num_classes", "loss", "steps", "seed"):
            if key in options:
                cmd += [f"--{key.replace('_', '-')}", str(options[key])]
        return cwd, cmd
    cmd = base + paths + common + ["--no-cache"]
    if case.pass_ == "static":
        return cwd, cmd + ["--no-graph"]
    target = _target(case, options, own_file)
    if target:
        cmd += ["--model", target]
    if "input_shape" in options:
        cmd += ["--input-shape", _shape_arg(options["input_shape"])]
    if "kwargs" in options:
        cmd += ["--kwargs", json.dumps(options["kwargs"])]
    return cwd, cmd


def run_variant(case: Case, variant: str) -> Run:
    """Run nnlint on one variant and parse its JSON report."""
    cwd, cmd = command(case, variant)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUTS[case.pass_], check=False
        )
    except subprocess.TimeoutExpired:
        return Run(seconds=time.perf_counter() - start, failure=f"timed out after {TIMEOUTS[case.pass_]} s")
    seconds = time.perf_counter() - start
    try:
        findings = json.loads(done.stdout or "null")
    except json.JSONDecodeError:
        findings = None
    if not isinstance(findings, list):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return Run(seconds=seconds, failure=f"exit {done.returncode}: " + " | ".join(tail))
    for finding in findings:
        finding["path"] = _relative(str(finding.get("path", "")), cwd)
    return Run(findings=findings, seconds=seconds)


def _relative(path: str, cwd: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(cwd).as_posix()
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()


def is_hit(case: Case, finding: Dict[str, Any], own_file: str) -> bool:
    """Whether a finding on the bug variant is the expected code at one of the case's places."""
    if finding.get("code") != case.code:
        return False
    path = str(finding.get("path", ""))
    for file, line in case.places():
        wanted = own_file if (own_file and file == "bug.py") else file
        if path == wanted and abs(int(finding.get("line", 0)) - line) <= LINE_TOLERANCE:
            return True
    return False


def judge(case: Case, bug: Run, fixed: Run) -> Dict[str, Any]:
    """The case's verdict: found or not, and what the fixed twin still reports."""
    _, _, bug_file = _variant(case, "bug")
    found = bug.failure is None and any(is_hit(case, f, bug_file) for f in bug.findings)
    false_findings = [f for f in fixed.findings if f.get("code") == case.code]
    others = [f for f in fixed.findings if f.get("code") != case.code and f.get("severity") in JUDGED_SEVERITIES]
    return {
        "case": case.name,
        "code": case.code,
        "pass": case.pass_,
        "shape": case.meta.get("shape", ""),
        "source": case.meta.get("source", ""),
        "found": found,
        "bug_codes": sorted({str(f.get("code")) for f in bug.findings}),
        "bug_findings": bug.findings,
        "bug_failure": bug.failure,
        "fixed_false_findings": false_findings,
        "fixed_other_findings": others,
        "fixed_failure": fixed.failure,
        "seconds": round(bug.seconds + fixed.seconds, 2),
    }


def evaluate(case: Case) -> Dict[str, Any]:
    return judge(case, run_variant(case, "bug"), run_variant(case, "fixed"))


def _select(cases: List[Case], args: argparse.Namespace) -> List[Case]:
    chosen = cases
    if args.pass_:
        chosen = [c for c in chosen if c.pass_ == args.pass_]
    if args.code:
        prefixes = [p.strip().upper() for p in args.code.split(",") if p.strip()]
        chosen = [c for c in chosen if any(c.code.startswith(p) for p in prefixes)]
    if args.only:
        chosen = [c for c in chosen if args.only in c.name]
    return chosen


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f}%" if whole else "    -"


def _where(finding: Dict[str, Any]) -> str:
    return f"{finding.get('path')}:{finding.get('line')} {finding.get('code')}"


def print_report(results: List[Dict[str, Any]], verbose: bool, out=sys.stdout) -> None:
    """Per-case lines, then recall per rule code, per pass and per code shape, then the fixed twins' findings."""
    for r in results:
        mark = "found " if r["found"] else "MISSED"
        extra = f"  (reported: {', '.join(r['bug_codes']) or 'nothing'})" if not r["found"] else ""
        print(f"{mark} {r['case']:<48} {r['pass']:<6} {r['seconds']:6.1f}s{extra}", file=out)
        for key in ("bug_failure", "fixed_failure"):
            if r[key]:
                print(f"       {key.replace('_', ' ')}: {r[key]}", file=out)
        if verbose:
            for f in r["bug_findings"]:
                print(f"       bug   {_where(f)} {f.get('message', '')[:140]}", file=out)
    print(file=out)
    _table(results, "code", "rule code", out)
    _table(results, "pass", "pass", out)
    _table(results, "shape", "code shape", out)
    false_findings = [(r["case"], f) for r in results for f in r["fixed_false_findings"]]
    print(f"False findings of the intended code on fixed twins: {len(false_findings)}", file=out)
    for name, f in false_findings:
        print(f"  {name}: {_where(f)} {f.get('message', '')[:160]}", file=out)
    others = [(r["case"], f) for r in results for f in r["fixed_other_findings"]]
    print(f"Other warning/error findings on fixed twins: {len(others)}", file=out)
    for name, f in others:
        print(f"  {name}: {_where(f)} {f.get('message', '')[:160]}", file=out)
    found = sum(r["found"] for r in results)
    failures = sum(bool(r["bug_failure"] or r["fixed_failure"]) for r in results)
    print(
        f"\nTotal: {len(results)} cases, {found} found ({_pct(found, len(results)).strip()}), "
        f"{len(false_findings)} false findings and {len(others)} other findings on fixed twins, "
        f"{failures} cases where nnlint failed to run.",
        file=out,
    )


def summary(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The compact form of results that `--compare` reads (and `--save-baseline` writes): no finding texts."""
    return [
        {
            "case": r["case"],
            "code": r["code"],
            "pass": r["pass"],
            "found": r["found"],
            "bug_codes": r["bug_codes"],
            "fixed_false": len(r["fixed_false_findings"]),
            "fixed_other": len(r["fixed_other_findings"]),
        }
        for r in results
    ]


def print_comparison(results: List[Dict[str, Any]], old_path: Path, out=sys.stdout) -> None:
    """Cases that changed since an earlier run: newly found, newly missed, more or fewer findings on the twin."""
    old = {r["case"]: r for r in json.loads(old_path.read_text())["results"]}
    now = {r["case"]: r for r in summary(results)}
    lines = []
    for name in sorted(now):
        before, after = old.get(name), now[name]
        if before is None:
            lines.append(f"  new case   {name}: {'found' if after['found'] else 'missed'}")
            continue
        if before["found"] != after["found"]:
            lines.append(f"  {'now found ' if after['found'] else 'now MISSED'} {name}")
        for key in ("fixed_false", "fixed_other"):
            old_count = before.get(key, len(before.get(key + "_findings", [])))
            if old_count != after[key]:
                lines.append(f"  {key.replace('_', ' ')} findings {old_count} -> {after[key]}  {name}")
    found_before = sum(bool(old[n]["found"]) for n in now if n in old)
    found_now = sum(bool(now[n]["found"]) for n in now if n in old)
    print(
        f"Compared with {old_path}: {found_before} -> {found_now} found on the {sum(n in old for n in now)} "
        f"cases of both runs",
        file=out,
    )
    for line in lines or ["  no change"]:
        print(line, file=out)


def _table(results: List[Dict[str, Any]], key: str, title: str, out) -> None:
    groups: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    for r in results:
        groups[str(r[key])].append(r)
    print(f"| {title} | cases | found | recall | false on fixed | other on fixed |", file=out)
    print("|---|---:|---:|---:|---:|---:|", file=out)
    for name in sorted(groups):
        rows = groups[name]
        found = sum(r["found"] for r in rows)
        false = sum(len(r["fixed_false_findings"]) for r in rows)
        other = sum(len(r["fixed_other_findings"]) for r in rows)
        print(f"| {name} | {len(rows)} | {found} | {_pct(found, len(rows)).strip()} | {false} | {other} |", file=out)
    print(file=out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pass", dest="pass_", choices=PASSES, help="only cases of this pass")
    parser.add_argument("--code", help="only these rule codes or prefixes, comma-separated (NN201,NN4)")
    parser.add_argument("--only", help="only cases whose folder name contains this text")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="cases checked at once (default 2)")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the findings on each bug")
    parser.add_argument("--compare", type=Path, help="show what changed since the results in this JSON file")
    parser.add_argument("--save-baseline", type=Path, help="write the compact results (for --compare) to this file")
    args = parser.parse_args(argv)

    cases = _select(load_cases(), args)
    if not cases:
        print("no case matches", file=sys.stderr)
        return 2
    start = time.perf_counter()
    results = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(evaluate, case) for case in cases]
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            results.append(result)
            log(f"[{done}/{len(cases)}] {'found ' if result['found'] else 'MISSED'} {result['case']}")
    results.sort(key=lambda r: r["case"])
    print_report(results, args.verbose)
    print(f"{len(cases)} cases in {time.perf_counter() - start:.0f} s wall, {args.jobs} workers", file=sys.stdout)
    if args.compare:
        print_comparison(results, args.compare)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results}, indent=1))
    if args.save_baseline:
        args.save_baseline.write_text(json.dumps({"results": summary(results)}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
