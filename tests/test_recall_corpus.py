"""The recall corpus (bench/recall/) is well formed: every case has its metadata, its source and a fixed twin.

The corpus itself is run by bench/recall.py, never here: it needs torch and minutes of CPU.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from nnlint import registry

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "recall"
CASES = sorted(path.parent for path in CORPUS.glob("*/case.toml"))
PASSES = ("static", "graph", "probe")
REQUIRED = ("code", "pass", "title", "source", "summary", "shape", "file", "line")


def _meta(case: Path) -> Dict[str, Any]:
    with (case / "case.toml").open("rb") as handle:
        return tomllib.load(handle)


def _variant_files(case: Path, variant: str) -> Dict[str, str]:
    """File name (as the metadata names it) -> text, for the bug or the fixed variant."""
    folder = case / variant
    if folder.is_dir():
        return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*.py"))}
    return {"bug.py": (case / f"{variant}.py").read_text()}


def test_the_corpus_has_at_least_100_cases_and_70_static_ones() -> None:
    passes = [_meta(case)["pass"] for case in CASES]
    assert len(CASES) >= 100
    assert passes.count("static") >= 70


def test_few_cases_are_constructed_without_a_report() -> None:
    constructed = [case.name for case in CASES if _meta(case)["source"] == "constructed"]
    assert len(constructed) <= len(CASES) // 10, constructed


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_metadata_is_complete(case: Path) -> None:
    meta = _meta(case)
    missing = [key for key in REQUIRED if key not in meta]
    assert not missing, f"{case.name}: missing {missing}"
    assert registry.lookup(meta["code"]) is not None, f"{case.name}: unknown code {meta['code']}"
    assert case.name.startswith(meta["code"] + "_"), "the folder name starts with the expected code"
    assert meta["pass"] in PASSES
    assert meta["source"] in ("report", "constructed")
    if meta["source"] == "report":
        assert str(meta.get("url", "")).startswith("https://"), f"{case.name}: a report needs its link"
    if meta["pass"] == "probe":
        assert meta.get("probe", {}).get("target"), f"{case.name}: a probe case names its target"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_has_a_fixed_twin_that_differs_and_parses(case: Path) -> None:
    meta = _meta(case)
    bug, fixed = _variant_files(case, "bug"), _variant_files(case, "fixed")
    assert sorted(bug) == sorted(fixed), f"{case.name}: the fixed twin has the same files"
    assert bug != fixed, f"{case.name}: the fixed twin changes something"
    for name, text in list(bug.items()) + list(fixed.items()):
        ast.parse(text, filename=f"{case.name}/{name}")
    places: List[List[Any]] = [[meta["file"], meta["line"]]] + list(meta.get("also_at", []))
    for file, line in places:
        assert file in bug, f"{case.name}: {file} is not a file of the bug"
        assert 1 <= int(line) <= len(bug[file].splitlines()), f"{case.name}: line {line} is outside {file}"
    for named in meta.get("check", []):
        assert named in bug, f"{case.name}: `check` names {named}, which the bug does not have"
