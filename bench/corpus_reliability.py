#!/usr/bin/env python
"""Reliability run: nnlint's static pass over large real corpora must report no internal errors.

    .venv/bin/python bench/corpus_reliability.py                      # every corpus found here
    .venv/bin/python bench/corpus_reliability.py --corpora stdlib-3.12 venv
    .venv/bin/python bench/corpus_reliability.py --corpora venv --limit 500   # a quick look

Corpora:
  stdlib-3.9 ... stdlib-3.13  the standard library (lib/pythonX.Y/, tests included) of each pyenv
                              Python found under ~/.pyenv/versions (or --pyenv);
  venv                        every .py file in the site-packages of a virtualenv with torch,
                              torchvision and timm (corpus/graph-venv if present, else .venv), plus
                              the unpacked wheels in corpus/src/ (transformers, diffusers, ...).

Each corpus is cut into runs of at most --chunk-files files, every file named explicitly (so
nnlint's default excludes such as `build/` or `tests` folders do not hide any), each run being
`python -m nnlint --no-graph --no-cache --format json --select ALL --exit-zero FILES` from the
corpus root. Per corpus it prints files, lines, seconds, findings per code, and lists:

  - every NN003 (a rule raised: always an nnlint bug);
  - every NN001/NN002 on a file the corpus's own Python compiles (`compile(bytes, path, "exec")`
    by the interpreter the file belongs to): a parse or decode failure of nnlint's, so a bug too;
  - every run that exited with a code other than 0/1, printed a traceback, or gave no JSON.

Everything is written to --output (default corpus/reliability.json) after each run, so an
interrupted run keeps its partial results. Nothing here imports the corpora or torch.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from measure import children_cpu  # bench/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parent.parent
BUG_CODES = ("NN003",)
PARSE_CODES = ("NN001", "NN002")
STDLIB_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13")

# Run by the corpus's own interpreter: which of the files (paths on stdin) Python compiles.
COMPILE_CHECK = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
result = {}
for path in sys.stdin.read().splitlines():
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec", dont_inherit=True)
        result[path] = None
    except BaseException as error:
        result[path] = "%s: %s" % (type(error).__name__, error)
print(json.dumps(result))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Corpus:
    """A named tree of files, the interpreter that owns them, and the folder paths are shown relative to."""

    def __init__(self, name: str, root: Path, python: str, parts: Sequence[Path], note: str = "") -> None:
        self.name, self.root, self.python, self.parts, self.note = name, root, python, list(parts), note

    def files(self) -> List[Path]:
        """Every .py file under the corpus's parts, sorted, relative to root; only __pycache__ is skipped."""
        found = set()
        for part in self.parts:
            for current, dirs, names in os.walk(part):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in names:
                    if name.endswith(".py"):
                        path = Path(current) / name
                        if path.is_file():
                            found.add(path.relative_to(self.root))
        return sorted(found)


def find_corpora(pyenv: Path, venv: Optional[Path]) -> List[Corpus]:
    """The corpora available on this machine."""
    corpora: List[Corpus] = []
    for version in STDLIB_VERSIONS:
        matches = sorted(
            pyenv.glob(f"{version}.*"), key=lambda p: [int(x) if x.isdigit() else 0 for x in p.name.split(".")]
        )
        for home in reversed(matches):
            lib = home / "lib" / f"python{version}"
            python = home / "bin" / f"python{version}"
            if lib.is_dir() and python.exists():
                # site-packages holds installed third-party code, not the standard library
                parts = [p for p in sorted(lib.iterdir()) if p.name != "site-packages"]
                corpora.append(Corpus(f"stdlib-{version}", lib, str(python), parts, f"Python {home.name}"))
                break
    venv = (
        venv.resolve()
        if venv
        else next((v for v in (REPO / "corpus" / "graph-venv", REPO / ".venv") if v.is_dir()), None)
    )
    if venv is not None:
        site = sorted(venv.glob("lib/python3*/site-packages"))
        if site:
            python = venv / "bin" / "python"
            parts = [p for p in sorted(site[0].iterdir()) if p.name != "nnlint"]
            extra = sorted(
                p for p in (REPO / "corpus" / "src").glob("*/*") if p.is_dir() and (p / "__init__.py").is_file()
            )
            have = {p.name for p in parts}
            extra = [p for p in extra if p.name not in have]  # torchvision and timm are in site-packages already
            root = Path(os.path.commonpath([str(site[0])] + [str(p.parent.parent) for p in extra]))
            note = f"{site[0]} + " + ", ".join(sorted({p.parent.name for p in extra})) if extra else str(site[0])
            corpora.append(
                Corpus("venv", root, str(python if python.exists() else sys.executable), parts + extra, note)
            )
    return corpora


def chunks_of(files: Sequence[Path], size: int) -> List[List[Path]]:
    """Runs of at most `size` files, keeping each folder's files together where they fit."""
    chunks: List[List[Path]] = []
    current: List[Path] = []
    for _key, group in _grouped(files):
        while group:
            if current and len(current) + len(group) > size:
                chunks.append(current)
                current = []
            take, group = group[: size - len(current)], group[size - len(current) :]
            current.extend(take)
    if current:
        chunks.append(current)
    return chunks


def _grouped(files: Sequence[Path]) -> List[Tuple[Path, List[Path]]]:
    groups: Dict[Path, List[Path]] = collections.OrderedDict()
    for path in files:
        groups.setdefault(path.parent, []).append(path)
    return list(groups.items())


def run_nnlint(python: str, cwd: Path, files: Sequence[Path], jobs: int, timeout: Optional[float]) -> Dict[str, object]:
    """One nnlint run over `files` (relative to cwd): findings, seconds, and anything that went wrong."""
    # this script as the entry point: `python -m` would put the corpus root (a standard library!) first on sys.path
    command = [
        python,
        str(Path(__file__).resolve()),
        "--as-nnlint",
        "--no-graph",
        "--no-cache",
        "--format",
        "json",
        "--select",
        "ALL",
        "--exit-zero",
    ]
    if jobs:
        command += ["--jobs", str(jobs)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # an empty entry would mean the corpus root
    env["NO_COLOR"] = "1"
    start, cpu = time.perf_counter(), children_cpu()
    # its own process group, so a timeout also ends nnlint's pool workers (they would run on, orphaned)
    process = subprocess.Popen(
        command + ["--"] + [f.as_posix() for f in files],
        cwd=str(cwd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"seconds": time.perf_counter() - start, "findings": [], "error": f"timed out after {timeout} s"}
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    outcome: Dict[str, object] = {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": children_cpu() - cpu,
        "returncode": result.returncode,
        "findings": [],
    }
    try:
        outcome["findings"] = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        outcome["error"] = f"output is not JSON ({error}); stdout tail {result.stdout[-500:]!r}"
    if result.returncode not in (0, 1):
        outcome["error"] = f"exit code {result.returncode}"
    if "Traceback" in result.stderr or "internal error" in result.stderr:
        outcome["error"] = "traceback or internal error on stderr"
    if result.stderr.strip():
        outcome["stderr"] = result.stderr[-4000:]
    return outcome


def compile_check(python: str, root: Path, files: Sequence[str]) -> Dict[str, Optional[str]]:
    """{path: None if the corpus's Python compiles it, else its error}."""
    if not files:
        return {}
    result = subprocess.run(
        [python, "-c", COMPILE_CHECK],
        input="\n".join(str(root / f) for f in files),
        capture_output=True,
        text=True,
        cwd=str(root),
    )
    try:
        by_absolute = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {f: f"compile check failed: {result.stderr[-300:]}" for f in files}
    return {f: by_absolute.get(str(root / f)) for f in files}


def count_lines(root: Path, files: Sequence[Path]) -> Tuple[int, int]:
    lines = size = 0
    for path in files:
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue
        size += len(data)
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return lines, size


def check_corpus(corpus: Corpus, args: argparse.Namespace, entry: Dict[str, object], save) -> None:
    """Lint one corpus in runs, filling `entry` (and saving) as it goes."""
    files = corpus.files()
    if args.under:
        files = [
            f
            for f in files
            if any(f.as_posix().startswith(prefix.rstrip("/") + "/") or f.as_posix() == prefix for prefix in args.under)
        ]
    if args.limit:
        files = files[: args.limit]
    lines, size = count_lines(corpus.root, files)
    entry.update(
        {
            "corpus": corpus.name,
            "root": str(corpus.root),
            "python": corpus.python,
            "note": corpus.note,
            "files": len(files),
            "lines": lines,
            "bytes": size,
        }
    )
    runs = chunks_of(files, args.chunk_files)
    log(f"[{corpus.name}] {len(files)} files, {lines} lines in {len(runs)} runs ({corpus.note})")
    findings: List[dict] = []
    errors: List[dict] = []
    seconds = cpu = 0.0
    for index, run in enumerate(runs, 1):
        outcome = run_nnlint(args.python, corpus.root, run, args.jobs, args.timeout)
        seconds += float(outcome["seconds"])  # type: ignore[arg-type]
        cpu += float(outcome.get("cpu_seconds", 0.0))  # type: ignore[arg-type]
        findings.extend(outcome["findings"])  # type: ignore[arg-type]
        if "error" in outcome:
            errors.append(
                {
                    "run": index,
                    "first_file": run[0].as_posix(),
                    "last_file": run[-1].as_posix(),
                    "error": outcome["error"],
                    "stderr": outcome.get("stderr", ""),
                }
            )
        log(
            f"[{corpus.name}] run {index}/{len(runs)}: {len(run)} files from {run[0].as_posix()}, "
            f"{outcome['seconds']:.1f} s, {len(outcome['findings'])} findings{' ERROR ' + str(outcome['error']) if 'error' in outcome else ''}"
        )  # type: ignore[arg-type]
        entry.update(
            seconds=round(seconds, 1),
            cpu_seconds=round(cpu, 1),
            runs=len(runs),
            runs_done=index,
            files_done=sum(len(r) for r in runs[:index]),
            findings_per_code=dict(sorted(collections.Counter(f["code"] for f in findings).items())),
            run_errors=errors,
            # kept as they come, so an interrupted run still names them (checked against Python at the end)
            suspect_so_far=[f for f in findings if f["code"] in BUG_CODES + PARSE_CODES],
        )
        save()
    internal = [f for f in findings if f["code"] in BUG_CODES]
    unparsed = sorted({f["path"] for f in findings if f["code"] in PARSE_CODES})
    compiled = compile_check(corpus.python, corpus.root, unparsed)
    spurious = [f for f in findings if f["code"] in PARSE_CODES and compiled.get(f["path"]) is None]
    expected = [
        dict(f, python_says=compiled.get(f["path"]))
        for f in findings
        if f["code"] in PARSE_CODES and compiled.get(f["path"]) is not None
    ]
    entry.update(internal_errors=internal, spurious_parse_errors=spurious, expected_parse_errors=expected)
    if args.keep_findings:
        entry["findings"] = findings
    save()


def print_entry(entry: Dict[str, object]) -> None:
    counts: Dict[str, int] = entry.get("findings_per_code", {})  # type: ignore[assignment]
    print(
        f"\n== {entry['corpus']} ({entry['note']}): {entry['files']} files, {entry['lines']} lines, "
        f"{entry.get('seconds', '?')} s wall / {entry.get('cpu_seconds', '?')} s CPU, findings {sum(counts.values())} {json.dumps(counts)}"
    )
    for label, key in (("INTERNAL ERROR", "internal_errors"), ("SPURIOUS PARSE ERROR", "spurious_parse_errors")):
        for f in entry.get(key, []):  # type: ignore[union-attr]
            print(f"   {label}: {f['path']}:{f['line']}:{f['column']} {f['code']} {f['message'][:300]}")
    for f in entry.get("expected_parse_errors", []):  # type: ignore[union-attr]
        print(f"   (Python rejects it too) {f['path']}:{f['line']} {f['code']}: {str(f['python_says'])[:120]}")
    for e in entry.get("run_errors", []):  # type: ignore[union-attr]
        print(
            f"   RUN ERROR in run {e['run']} ({e['first_file']} .. {e['last_file']}): {e['error']}\n      {e['stderr'][-800:]}"
        )


def print_table(entries: Sequence[Dict[str, object]]) -> None:
    header = [
        "corpus",
        "files",
        "lines",
        "wall_s",
        "cpu_s",
        "files/s",
        "findings",
        "NN003",
        "bad NN001/2",
        "run errors",
    ]
    rows = [header]
    for e in entries:
        counts: Dict[str, int] = e.get("findings_per_code", {})  # type: ignore[assignment]
        seconds = float(e.get("seconds", 0) or 0)  # type: ignore[arg-type]
        rows.append(
            [
                str(e["corpus"]),
                str(e["files"]),
                str(e["lines"]),
                str(e.get("seconds", "?")),
                str(e.get("cpu_seconds", "?")),
                f"{int(e['files']) / seconds:.0f}" if seconds else "?",
                str(sum(counts.values())),  # type: ignore[call-overload]
                str(len(e.get("internal_errors", []))),
                str(len(e.get("spurious_parse_errors", []))),  # type: ignore[arg-type]
                str(len(e.get("run_errors", []))),
            ]
        )  # type: ignore[arg-type]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print()
    for row in rows:
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--as-nnlint"]:
        sys.path.insert(0, str(REPO))
        from nnlint.cli import main as nnlint_main

        return nnlint_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpora",
        nargs="*",
        default=None,
        metavar="NAME",
        help="stdlib-3.9 ... stdlib-3.13, venv (default: all found)",
    )
    parser.add_argument(
        "--pyenv", type=Path, default=Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=None,
        help="virtualenv whose site-packages to check (default: corpus/graph-venv, else .venv)",
    )
    parser.add_argument("--chunk-files", type=int, default=200, metavar="N", help="files per nnlint run (default 200)")
    parser.add_argument("--jobs", type=int, default=0, help="nnlint --jobs (default: nnlint's own)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per nnlint run (default 3600)")
    parser.add_argument("--limit", type=int, default=0, help="check only the first N files of each corpus")
    parser.add_argument(
        "--under",
        action="append",
        default=[],
        metavar="PREFIX",
        help="check only files under this folder of the corpus (relative to its root, e.g. test); repeatable",
    )
    parser.add_argument(
        "--keep-findings", action="store_true", help="write every finding to the JSON, not only the suspect ones"
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs nnlint (default: this one)")
    parser.add_argument("--output", type=Path, default=REPO / "corpus" / "reliability.json")
    args = parser.parse_args(argv)

    available = find_corpora(args.pyenv, args.venv)
    wanted = args.corpora or [c.name for c in available]
    missing = [name for name in wanted if name not in {c.name for c in available}]
    if missing:
        log(f"not found here: {', '.join(missing)}")
    summary: Dict[str, object] = {
        "command": "python -m nnlint --no-graph --no-cache --format json --select ALL --exit-zero FILES",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "nnlint_python": sys.version.split()[0],
        "chunk_files": args.chunk_files,
        "corpora": [],
    }
    entries: List[Dict[str, object]] = summary["corpora"]  # type: ignore[assignment]

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    for corpus in available:
        if corpus.name in wanted:
            entry: Dict[str, object] = {}
            entries.append(entry)
            check_corpus(corpus, args, entry, save)
            print_entry(entry)
            sys.stdout.flush()
    print_table(entries)
    log(f"written to {args.output}")
    bad = any(e.get("internal_errors") or e.get("spurious_parse_errors") or e.get("run_errors") for e in entries)
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
