"""The same input gives byte-identical JSON and SARIF: across runs, interpreters (hash seeds), worker counts and the cache.

The input is a copy of fixtures/ and bench/precision_snippets/ (about 180 files, every rule's hits and
near-misses, files that do not parse or decode), so the order of findings, their fingerprints and
their fixes are all exercised.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from nnlint.cli import main
from nnlint.config import Config
from nnlint.reporters import get_reporter
from nnlint.reporters.base import ReportContext
from nnlint.runner import GraphOptions, Performance, Selection, run
from nnlint.static import reading, schedule

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("json", "sarif")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A private copy of fixtures/ and bench/precision_snippets/ (bytes as they are), so caches stay here."""
    root = tmp_path_factory.mktemp("determinism")
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    shutil.copytree(REPO / "bench" / "precision_snippets", root / "precision_snippets")
    return root


def _cli(capsys, monkeypatch, cwd: Path, *args: str) -> str:
    monkeypatch.chdir(cwd)
    code = main(["--no-graph", "--select", "ALL", *args, "fixtures", "precision_snippets"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "Traceback" not in err, err
    return out


def _outputs(cwd: Path, workers: int, cache_dir=None, paths=("fixtures", "precision_snippets")) -> Dict[str, str]:
    """JSON and SARIF of one run, rendered as the CLI renders them (one run serves both formats)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = run(
            [Path(p) for p in paths],
            Config(),
            cwd,
            Selection(("ALL",)),
            graph=GraphOptions(enabled=False),
            performance=Performance(workers=workers, cache_dir=cache_dir),
        )
        return {fmt: _render(result.findings, result, fmt) for fmt in FORMATS}
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def baseline(tree) -> Dict[str, str]:
    """One serial run without cache: what every other way of running must reproduce byte for byte."""
    outputs = _outputs(tree, 1)
    assert json.loads(outputs["json"]), "the input must give findings, or these tests prove nothing"
    return outputs


def test_cli_prints_what_the_runner_renders(capsys, monkeypatch, tree, baseline):
    """The CLI's --format json/sarif is the same rendering (so the other tests may call the runner)."""
    for fmt in FORMATS:
        assert _cli(capsys, monkeypatch, tree, "--format", fmt, "--no-cache", "--jobs", "1") == baseline[fmt], fmt


def test_two_runs_are_byte_identical(tree, baseline):
    """A second run in the same process."""
    assert _outputs(tree, 1) == baseline


@pytest.mark.parametrize("workers", [2])
def test_worker_count_does_not_change_output(tree, baseline, workers):
    """The process pool (the tree has far more than PARALLEL_MIN_FILES files) gives the serial run's bytes."""
    assert sum(1 for _ in tree.rglob("*.py")) >= schedule.PARALLEL_MIN_FILES, "too few files for the pool"
    assert _outputs(tree, workers) == baseline


@pytest.mark.parametrize("workers", [1, 2])
def test_rounds_of_fresh_workers_change_nothing(tree, baseline, monkeypatch, workers):
    """A large run goes in rounds of fresh workers, each over ~CHUNK_BYTES of files (one at a time with one job):
    shrunk here so the tree takes dozens of rounds, the bytes are the serial run's."""
    monkeypatch.setattr(schedule, "CHUNK_BYTES", 20_000)
    assert _outputs(tree, workers) == baseline


@pytest.mark.parametrize("workers", [1, 2])
def test_packed_texts_change_nothing(tree, baseline, monkeypatch, tmp_path, workers):
    """A large run keeps its texts packed and finds who mentions a name through a WordIndex: forced here from the
    first byte, in rounds as a large run goes, without a cache and with a cold and a warm one."""
    monkeypatch.setattr(reading, "PACK_ABOVE_BYTES", 0)
    monkeypatch.setattr(schedule, "CHUNK_BYTES", 20_000)
    assert _outputs(tree, workers) == baseline, "no cache"
    assert _outputs(tree, workers, tmp_path / "cache") == baseline, "cold cache"
    assert _outputs(tree, workers, tmp_path / "cache") == baseline, "warm cache"


def test_packed_texts_change_nothing_across_files(monkeypatch):
    """The same on the recall corpus, whose cases pass models, losses and optimizers between files and functions."""
    plain = _outputs(REPO / "bench", 1, paths=("recall",))
    assert json.loads(plain["json"])
    monkeypatch.setattr(reading, "PACK_ABOVE_BYTES", 0)
    assert _outputs(REPO / "bench", 1, paths=("recall",)) == plain


def test_releasing_parsed_trees_changes_nothing(tree, baseline, monkeypatch):
    """Every tree released after its file and parsed again when another file asks (issue 13's memory bound)."""
    from nnlint.static import analysis

    monkeypatch.setattr(analysis, "KEEP_PARSED", 0)
    assert _outputs(tree, 1) == baseline


def test_cold_and_warm_cache_match_no_cache(tree, tmp_path, baseline):
    """A cold cache (written by this run) and a warm one (read back, serially and by the pool) change nothing."""
    cache = tmp_path / "cache"
    assert _outputs(tree, 1, cache) == baseline, "cold cache"
    assert any(cache.iterdir()), "the cache was not written"
    assert _outputs(tree, 1, cache) == baseline, "warm cache"
    assert _outputs(tree, 2, cache) == baseline, "warm cache, pool"


@pytest.mark.slow
def test_cli_cache_folder_from_config(capsys, monkeypatch, tree, tmp_path, baseline):
    """The same through the CLI, with the cache folder set in [tool.nnlint] and read warm."""
    cache = tmp_path / "cli-cache"
    config = tree / "pyproject.toml"
    config.write_text(f"[tool.nnlint]\ncache-dir = {json.dumps(str(cache))}\n", encoding="utf-8")
    try:
        cold = _cli(capsys, monkeypatch, tree, "--format", "sarif", "--jobs", "1")
        warm = _cli(capsys, monkeypatch, tree, "--format", "sarif", "--jobs", "2")
    finally:
        config.unlink()
    assert any(cache.iterdir()), "the cache was not written"
    assert cold == baseline["sarif"]
    assert warm == baseline["sarif"]


def _render(findings, result, fmt: str) -> str:
    out = io.StringIO()
    get_reporter(fmt).render(findings, out, ReportContext(result.files_checked, result.read_text, False, False, {}))
    return out.getvalue()


def _run_direct(paths: List[Path], cwd: Path, workers: int) -> Dict[str, str]:
    result = run(
        paths,
        Config(),
        cwd,
        Selection(("ALL",)),
        graph=GraphOptions(enabled=False),
        performance=Performance(workers=workers),
    )
    return {fmt: _render(result.findings, result, fmt) for fmt in FORMATS}


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_pool_on_small_inputs_matches_serial(monkeypatch, tree, workers):
    """The pool forced on a handful of files (PARALLEL_MIN_FILES lowered): chunks of one or two files each."""
    cases = [tree / "fixtures" / name for name in ("NN402", "NN408", "NN205", "NN001", "NN002", "demo")]
    serial = _run_direct(cases, tree, 1)
    monkeypatch.setattr(schedule, "PARALLEL_MIN_FILES", 1)
    calls = []
    original = schedule._in_pool
    monkeypatch.setattr(schedule, "_in_pool", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert _run_direct(cases, tree, workers) == serial
    assert calls, "the pool was not used"


def _process(cwd: Path, seed: str, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    env.pop("NNLINT_DEBUG", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnlint",
            "--no-graph",
            "--select",
            "ALL",
            "--no-cache",
            *args,
            "fixtures",
            "precision_snippets",
        ],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "seed, jobs, fmt", [("1", "2", "json"), pytest.param("2", "1", "sarif", marks=pytest.mark.slow)]
)
def test_separate_interpreters_with_other_hash_seeds(tree, baseline, seed, jobs, fmt):
    """Fresh interpreters with other PYTHONHASHSEEDs (set order of strings differs) give the same bytes."""
    assert _process(tree, seed, "--format", fmt, "--jobs", jobs).decode("utf-8") == baseline[fmt]


def test_sarif_fingerprints_are_unique(baseline):
    """Every SARIF result has a fingerprint and no two are alike (the other tests show they are stable)."""
    log = json.loads(baseline["sarif"])
    prints = [r["partialFingerprints"]["nnlintFingerprint/v2"] for r in log["runs"][0]["results"]]
    assert prints and len(set(prints)) == len(prints)


def test_json_findings_are_sorted(baseline):
    """The JSON array is in (path, line, column, code) order."""
    rows = json.loads(baseline["json"])
    keys = [(r["path"], r["line"], r["column"], r["code"]) for r in rows]
    assert keys == sorted(keys)
