#!/usr/bin/env python
"""Precision run: lint the source of real, well-written PyTorch model packages with nnlint's static pass.

Every finding on this corpus is presumed a false positive until a human shows otherwise, so the
numbers printed here are an upper bound on nnlint's false-positive rate on good code.

    .venv/bin/python bench/precision_corpus.py                       # all default packages
    .venv/bin/python bench/precision_corpus.py --packages timm torchvision
    .venv/bin/python bench/precision_corpus.py --packages transformers --subpath transformers=models/bert

Steps, per package:
  1. `pip download --no-deps --no-binary :none: -d CACHE/downloads PACKAGE` (wheels are fine; the
     newest version pip's index and constraints allow);
  2. unpack the wheel (or sdist) into CACHE/src/<dist>-<version>/;
  3. run `python -m nnlint <package folder> --format json --no-graph --exit-zero` from that folder,
     so finding paths read `torchvision/models/...`;
  4. print version, files, lines, seconds and findings per code; write every finding and the
     summary to --output (default CACHE/precision.json).

Only the import package's own folder is linted (torchvision/, timm/, transformers/, ...), not
tests or docs shipped beside it. Nothing here imports the packages or torch.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from measure import children_cpu  # bench/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / "corpus"

# distribution name on the index -> import package folder that holds its source
PACKAGES: Dict[str, str] = {
    "torchvision": "torchvision",
    "timm": "timm",
    "transformers": "transformers",
    "pytorch-lightning": "pytorch_lightning",
    "segmentation-models-pytorch": "segmentation_models_pytorch",
    "torchmetrics": "torchmetrics",
    "diffusers": "diffusers",
}
DEFAULT_PACKAGES = list(PACKAGES)
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_archive(folder: Path, dist: str) -> Optional[Path]:
    """The newest downloaded archive of `dist` in `folder`, if any."""
    wanted = _normalize(dist)
    found = []
    for path in folder.glob("*"):
        if not path.name.endswith(ARCHIVE_SUFFIXES):
            continue
        stem = path.name.split("-")[0]
        if _normalize(stem) == wanted:
            found.append(path)
    if not found:
        return None
    return max(found, key=lambda p: p.stat().st_mtime)


def version_of(archive: Path) -> str:
    """`timm-1.0.31-py3-none-any.whl` -> `1.0.31`."""
    name = archive.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    parts = name.split("-")
    return parts[1] if len(parts) > 1 else "?"


def download(dist: str, folder: Path, python: str, refresh: bool) -> Path:
    """Download one distribution with pip (no dependencies); reuse a cached archive unless `refresh`."""
    folder.mkdir(parents=True, exist_ok=True)
    cached = find_archive(folder, dist)
    if cached is not None and not refresh:
        log(f"[{dist}] using cached {cached.name}")
        return cached
    command = [python, "-m", "pip", "download", "--no-deps", "--no-binary", ":none:", "-d", str(folder), dist]
    log(f"[{dist}] {' '.join(command)}")
    before = {p.name for p in folder.iterdir()}
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip download {dist} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    saved = re.findall(r"(?:Saved|File was already downloaded) (\S+)", result.stdout)
    for entry in saved:
        path = Path(entry)
        if not path.is_absolute():
            path = Path.cwd() / path
        if path.exists() and path.name.endswith(ARCHIVE_SUFFIXES):
            return path
    new = [folder / name for name in {p.name for p in folder.iterdir()} - before]
    archive = find_archive(folder, dist) if not new else max(new, key=lambda p: p.stat().st_mtime)
    if archive is None:
        raise RuntimeError(f"pip download {dist}: no archive found in {folder}")
    return archive


def unpack(archive: Path, destination_root: Path) -> Path:
    """Unpack an archive once into destination_root/<archive stem>/."""
    stem = archive.name
    for suffix in ARCHIVE_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    destination = destination_root / stem
    marker = destination / ".unpacked"
    if marker.exists():
        return destination
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(destination)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(destination, filter="data") if sys.version_info >= (3, 12) else tf.extractall(destination)
    marker.write_text(archive.name)
    return destination


def package_folder(root: Path, import_name: str) -> Path:
    """The shallowest folder named `import_name` with an __init__.py under `root` (wheel or sdist, src/ layout)."""
    candidates = sorted(
        (p.parent for p in root.rglob(f"{import_name}/__init__.py")),
        key=lambda p: (len(p.relative_to(root).parts), str(p)),
    )
    if not candidates:
        raise RuntimeError(f"no {import_name}/__init__.py under {root}")
    return candidates[0]


def source_files(paths: Sequence[Path]) -> List[Path]:
    """The files nnlint will check under `paths` (its own discovery, so excluded folders are left out)."""
    try:
        sys.path.insert(0, str(REPO))
        from nnlint.config import DEFAULT_EXCLUDE
        from nnlint.discover import discover

        return list(discover(paths, DEFAULT_EXCLUDE, paths[0].parent))
    except Exception:  # fall back to a plain walk
        return [
            f for p in paths for f in (sorted(p.rglob("*.py")) if p.is_dir() else [p]) if "__pycache__" not in f.parts
        ]


def chunks_of(files: Sequence[Path], folder: Path, size: int) -> List[List[Path]]:
    """Split files into runs of about `size` files, never splitting a sub-package (models/bert stays whole)."""
    groups: Dict[tuple, List[Path]] = {}
    for path in files:
        parts = path.relative_to(folder).parts
        key = parts[:2] if len(parts) > 2 else parts[:1] if len(parts) > 1 else ("",)
        groups.setdefault(key, []).append(path)
    chunks: List[List[Path]] = []
    current: List[Path] = []
    for key in sorted(groups):
        if current and len(current) + len(groups[key]) > size:
            chunks.append(current)
            current = []
        current.extend(groups[key])
    if current:
        chunks.append(current)
    return chunks


def count_source(paths: Sequence[Path]) -> Dict[str, int]:
    """Files and lines nnlint will check (its own discovery, so excluded folders are not counted)."""
    files = source_files(paths)
    lines = 0
    for path in files:
        try:
            with open(path, "rb") as handle:
                lines += sum(1 for _ in handle)
        except OSError:
            pass
    return {"files": len(files), "lines": lines}


def run_nnlint(
    python: str, cwd: Path, targets: Sequence[str], timeout: Optional[float], select: Optional[str] = None
) -> Dict[str, object]:
    """Run the static pass on `targets` (relative to cwd); return findings, seconds and any failure."""
    command = [python, "-m", "nnlint", *targets, "--format", "json", "--no-graph", "--exit-zero"]
    if select:
        command += ["--select", select]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    cpu_before = children_cpu()
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        return {
            "command": command,
            "seconds": time.perf_counter() - start,
            "findings": [],
            "error": f"timed out after {error.timeout}s",
        }
    seconds = time.perf_counter() - start
    outcome: Dict[str, object] = {
        "command": command,
        "seconds": seconds,
        "cpu_seconds": children_cpu() - cpu_before,
        "returncode": result.returncode,
    }
    try:
        outcome["findings"] = json.loads(result.stdout) if result.stdout.strip() else []
    except json.JSONDecodeError as error:
        outcome["findings"] = []
        outcome["error"] = f"output is not JSON ({error}); stdout tail: {result.stdout[-1000:]!r}"
    if result.returncode not in (0, 1):
        outcome.setdefault("error", f"nnlint exited {result.returncode}")
    if result.stderr.strip():
        outcome["stderr"] = result.stderr[-4000:]
    return outcome


def source_hash() -> str:
    """A short hash of nnlint's source files, to tell which state of a changing tree produced a result."""
    source = REPO / "nnlint"
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*.py")):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def nnlint_identity(python: str) -> Dict[str, object]:
    """Which nnlint ran: version, the rules it has, and a hash of its source (the tree may change between runs)."""
    identity: Dict[str, object] = {"nnlint_source_sha256": source_hash()}
    try:
        probe = subprocess.run(
            [
                python,
                "-c",
                "import nnlint, json; from nnlint.rules import ALL_RULES; "
                "print(json.dumps([getattr(nnlint, '__version__', '?'), [r.code for r in ALL_RULES]]))",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        version, codes = json.loads(probe.stdout)
        identity["nnlint_version"] = version
        identity["nnlint_rules"] = codes
    except Exception as error:
        identity["nnlint_identity_error"] = str(error)
    return identity


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--packages",
        nargs="*",
        default=DEFAULT_PACKAGES,
        metavar="DIST",
        help=f"distributions to check (default: {' '.join(DEFAULT_PACKAGES)}); "
        "any pip name works, use DIST=IMPORT_NAME when the folder differs",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="download/unpack folder (default: corpus/)")
    parser.add_argument("--output", type=Path, default=None, help="JSON summary (default: CACHE/precision.json)")
    parser.add_argument(
        "--subpath",
        action="append",
        default=[],
        metavar="DIST=REL[,REL...]",
        help="lint only these sub-folders of a package, e.g. transformers=models/bert,models/gpt2",
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per nnlint run (default: none)")
    parser.add_argument(
        "--chunk-files",
        type=int,
        default=0,
        metavar="N",
        help="lint a big package in separate runs of about N files (whole sub-packages each), "
        "writing partial results after each; cross-file inference then only sees one chunk "
        "(default: 0, one run per package)",
    )
    parser.add_argument(
        "--snippets",
        action="store_true",
        help="also lint bench/precision_snippets/ (correct example code: an NN0xx, NN2xx or NN401 finding there is a false positive)",
    )
    parser.add_argument(
        "--select",
        default=None,
        metavar="RULES",
        help="passed to nnlint --select (default: every rule nnlint has), e.g. NN0,NN2,NN401",
    )
    parser.add_argument("--refresh", action="store_true", help="download again even when an archive is cached")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter with nnlint installed (default: this one)"
    )
    args = parser.parse_args(argv)

    cache: Path = args.cache.resolve()
    output: Path = (args.output or cache / "precision.json").resolve()
    subpaths: Dict[str, List[str]] = {}
    for spec in args.subpath:
        dist, _, rels = spec.partition("=")
        subpaths[dist] = [r for r in rels.split(",") if r]

    summary: Dict[str, object] = {
        "nnlint_command": "python -m nnlint PATH --format json --no-graph --exit-zero"
        + (f" --select {args.select}" if args.select else ""),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
    }
    summary.update(nnlint_identity(args.python))
    summary["packages"] = {}
    results: Dict[str, Dict[str, object]] = summary["packages"]  # type: ignore[assignment]
    for spec in args.packages:
        dist, _, import_name = spec.partition("=")
        import_name = import_name or PACKAGES.get(dist, _normalize(dist))
        entry: Dict[str, object] = {"dist": dist, "import_name": import_name}
        results[dist] = entry
        try:
            archive = download(dist, cache / "downloads", args.python, args.refresh)
            entry["archive"] = archive.name
            entry["version"] = version_of(archive)
            root = unpack(archive, cache / "src")
            folder = package_folder(root, import_name)
            targets = [folder / rel for rel in subpaths.get(dist, [])] or [folder]
            missing = [str(t) for t in targets if not t.exists()]
            if missing:
                raise RuntimeError(f"no such sub-folder(s): {', '.join(missing)}")
            entry["linted"] = [t.relative_to(folder.parent).as_posix() for t in targets]
            entry.update(count_source(targets))
            log(f"[{dist}] linting {', '.join(entry['linted'])} ({entry['files']} files, {entry['lines']} lines)")
            files = source_files(targets)
            if args.chunk_files > 0 and len(files) > args.chunk_files:
                runs = [
                    [f.relative_to(folder.parent).as_posix() for f in chunk]
                    for chunk in chunks_of(files, folder, args.chunk_files)
                ]
            else:
                runs = [entry["linted"]]  # type: ignore[list-item]
            entry["runs"] = len(runs)
            findings: List[dict] = []
            seconds = cpu = 0.0
            for index, run in enumerate(runs, 1):
                if len(runs) > 1:
                    log(f"[{dist}] run {index}/{len(runs)}: {len(run)} files from {run[0]} to {run[-1]}")
                entry.setdefault("nnlint_source_sha256", [])
                if source_hash() not in entry["nnlint_source_sha256"]:  # type: ignore[operator]
                    entry["nnlint_source_sha256"].append(source_hash())  # type: ignore[union-attr]
                outcome = run_nnlint(args.python, folder.parent, run, args.timeout, args.select)
                seconds += float(outcome["seconds"])  # type: ignore[arg-type]
                cpu += float(outcome["cpu_seconds"]) if "cpu_seconds" in outcome else 0.0  # type: ignore[arg-type]
                findings.extend(outcome["findings"])  # type: ignore[arg-type]
                for key in ("error", "stderr"):
                    if key in outcome:
                        entry.setdefault(key + "s", []).append({"run": index, "first_file": run[0], key: outcome[key]})  # type: ignore[union-attr]
                entry["seconds"] = round(seconds, 2)
                entry["cpu_seconds"] = round(cpu, 2)
                entry["findings_per_code"] = dict(sorted(collections.Counter(f["code"] for f in findings).items()))
                entry["findings"] = findings
                entry["runs_done"] = index
                if len(runs) > 1:
                    output.parent.mkdir(parents=True, exist_ok=True)
                    output.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
            if "errors" in entry:
                entry["error"] = "; ".join(str(e["error"]) for e in entry["errors"])  # type: ignore[union-attr,index]
            if "stderrs" in entry:
                entry["stderr"] = "\n".join(str(e["stderr"]) for e in entry["stderrs"])  # type: ignore[union-attr,index]
        except Exception as error:  # one broken package must not stop the run
            entry["error"] = f"{type(error).__name__}: {error}"
        print_entry(entry)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        )  # after each package: partial results survive

    if args.snippets:
        snippets = Path(__file__).resolve().parent / "precision_snippets"
        entry = {"dist": "precision_snippets", "version": "-", "linted": ["bench/precision_snippets"]}
        entry.update(count_source([snippets]))
        outcome = run_nnlint(args.python, REPO, ["bench/precision_snippets"], args.timeout, args.select)
        entry["seconds"] = round(float(outcome["seconds"]), 2)  # type: ignore[arg-type]
        entry["cpu_seconds"] = round(float(outcome.get("cpu_seconds", float("nan"))), 2)  # type: ignore[arg-type]
        entry["findings"] = outcome["findings"]
        entry["findings_per_code"] = dict(sorted(collections.Counter(f["code"] for f in outcome["findings"]).items()))  # type: ignore[union-attr,index]
        for key in ("error", "stderr"):
            if key in outcome:
                entry[key] = outcome[key]
        summary["snippets"] = entry
        results = dict(results, precision_snippets=entry)
        print_entry(entry)
        output.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

    print_table(results)
    log(f"summary written to {output}")
    return 1 if any("error" in e for e in results.values()) else 0


def print_entry(entry: Dict[str, object]) -> None:
    counts = entry.get("findings_per_code", {})
    print(
        f"\n== {entry['dist']} {entry.get('version', '?')}: {entry.get('files', '?')} files, "
        f"{entry.get('lines', '?')} lines, {entry.get('seconds', '?')} s wall / {entry.get('cpu_seconds', '?')} s CPU, "
        f"findings: {sum(counts.values()) if counts else 0} {json.dumps(counts)}",
        flush=True,
    )  # type: ignore[union-attr]
    for finding in entry.get("findings", []):  # type: ignore[union-attr]
        print(
            f"   {finding['path']}:{finding['line']}:{finding['column']} {finding['code']} {finding['message'][:160]}"
        )
    if "error" in entry:
        print(f"   ERROR: {entry['error']}")
    if entry.get("stderr"):
        print("   stderr: " + str(entry["stderr"]).strip().replace("\n", "\n           ")[:2000])


def print_table(results: Dict[str, Dict[str, object]]) -> None:
    codes = sorted({code for e in results.values() for code in e.get("findings_per_code", {})})  # type: ignore[union-attr]
    header = ["package", "version", "files", "lines", "wall_s", "cpu_s", "total"] + codes
    rows = [header]
    for dist, e in results.items():
        counts: Dict[str, int] = e.get("findings_per_code", {})  # type: ignore[assignment]
        rows.append(
            [
                dist,
                str(e.get("version", "?")),
                str(e.get("files", "?")),
                str(e.get("lines", "?")),
                str(e.get("seconds", "?")),
                str(e.get("cpu_seconds", "?")),
                str(sum(counts.values())) if "findings" in e else "ERR",
            ]
            + [str(counts.get(c, 0)) for c in codes]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print()
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
