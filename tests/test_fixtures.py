"""Every fixtures/NNxxx/<case> is linted by its rule's passes and must give exactly its <case>.expected findings.

A case is a .py file, or a folder whose files are linted together (cross-file analysis). The passes it runs:
- static case (the folder's rule is static only): the static pass with all rules; no torch needed.
- graph case (the rule has the graph pass): `nnlint CASE` as a user runs it, the static pass and then the graph
  pass on every model it discovers, plus those a `<case>.toml` sidecar configures (a `[tool.nnlint]` table, used
  as the case's pyproject.toml). The graph targets run in this process (graph_support.run_in_process).
- probe case (the rule has the probe pass and the case calls `nnlint.probe(`): the static pass, then the case's
  `test_*` functions are called like unit tests (probe_support); every probe they make adds its findings, and
  their own asserts on the report (overfit status, skipped checks) must hold.
Graph and probe cases run on a copy in a temporary folder, with the data files of their rule folder (such as a
saved probe baseline), and are marked `torch`.

An expectation is one `path:line:col CODE message` line per finding, then indented details: the pass when it is
not the rule's first one, the severity when it is not the rule's own, and the fix: its title, then its diff
(or edits) behind a `|` gutter.
Regenerate the expectations after a deliberate change with `pytest tests/test_fixtures.py --update-fixtures`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pytest

from nnlint import registry
from nnlint.config import Config, load_config
from nnlint.fix import apply_edits, unified_diff
from nnlint.rules import ALL_RULES
from nnlint.runner import GraphOptions, run
from nnlint.types import Finding, Pass

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(
    path
    for rule_dir in FIXTURES.glob("NN*")
    for path in rule_dir.iterdir()
    if path.suffix == ".py" or (path.is_dir() and path.name != "__pycache__")
)
# NN003 reports a bug in nnlint itself: a case that provokes it would be a bug to fix, not an expectation to keep.
NO_CASES = {
    "NN003": FIXTURES / "NN003" / "README.md",
    "NN005": FIXTURES / "NN005" / "README.md",
    "NN102": FIXTURES / "NN102" / "README.md",
}


def _source(case: Path) -> str:
    files = [case] if case.is_file() else sorted(case.rglob("*.py"))
    return "".join(file.read_text(encoding="utf-8") for file in files)


def case_pass(case: Path) -> Pass:
    """The pass a case is written for (besides the static pass, which every case runs)."""
    rule = registry.BY_CODE[case.parent.name]
    if Pass.PROBE in rule.passes and "nnlint.probe(" in _source(case):
        return Pass.PROBE
    if Pass.GRAPH in rule.passes:
        return Pass.GRAPH
    return Pass.STATIC


def _param(case: Path):
    marks = [] if case_pass(case) is Pass.STATIC else [pytest.mark.torch]
    return pytest.param(case, id=f"{case.parent.name}/{case.stem}", marks=marks)


PARAMS = [_param(case) for case in CASES]
_RESULTS: Dict[Path, Tuple[List[Finding], str]] = {}  # each case runs once for both tests below


def _lint(case: Path, tmp_path_factory) -> Tuple[List[Finding], str]:
    """The case's findings and their rendering."""
    if case not in _RESULTS:
        kind = case_pass(case)
        if kind is Pass.STATIC:
            result = run([case], Config(), cwd=case.parent, graph=GraphOptions(enabled=False))
            findings, read_text, folder = list(result.findings), result.read_text, case.parent
        else:
            pytest.importorskip("torch")
            folder = _copy(case, tmp_path_factory.mktemp(case.parent.name))
            findings, read_text = _run_torch_case(folder / case.name, kind)
        _RESULTS[case] = (findings, render(findings, read_text, folder))
    return _RESULTS[case]


def _copy(case: Path, folder: Path) -> Path:
    """The case, its `<case>.toml` config as pyproject.toml, and the rule folder's data files, into `folder`."""
    if case.is_dir():
        shutil.copytree(case, folder / case.name)
    else:
        shutil.copy(case, folder / case.name)
    for data in case.parent.iterdir():
        if data.is_file() and data.suffix not in (".py", ".expected", ".toml", ".md"):
            shutil.copy(data, folder / data.name)
    config = case.with_suffix(".toml")
    if config.is_file():
        shutil.copy(config, folder / "pyproject.toml")
    return folder.resolve()


def _run_torch_case(copy: Path, kind: Pass) -> Tuple[List[Finding], Callable[[str], Optional[str]]]:
    folder = copy.parent
    pyproject = folder / "pyproject.toml"
    config = load_config([copy], explicit=pyproject) if pyproject.is_file() else Config()
    if kind is Pass.GRAPH:
        from graph_support import run_in_process

        result = run_in_process([copy], config, cwd=folder)
        return list(result.findings), result.read_text
    from probe_support import probe_file_findings

    result = run([copy], config, cwd=folder, graph=GraphOptions(enabled=False))
    probed = [_displayed(finding, folder) for finding in probe_file_findings(copy)]
    return sorted([*result.findings, *probed], key=Finding.sort_key), result.read_text


def _displayed(finding: Finding, folder: Path) -> Finding:
    """A probe finding (absolute path) with its path relative to the case's folder, as the CLI shows it."""
    path = Path(finding.location.path)
    if path.is_absolute() and path.resolve().is_relative_to(folder):
        path = path.resolve().relative_to(folder)
    return replace(finding, location=replace(finding.location, path=path.as_posix()))


def render(findings: Sequence[Finding], read_text: Callable[[str], Optional[str]], folder: Path) -> str:
    """The expectation text of a case's findings."""
    lines = []
    for finding in findings:
        rule = registry.BY_CODE[finding.code]
        # the copy's temporary folder differs on every run: messages name files relative to it
        message = finding.message.replace(str(folder) + os.sep, "").replace("\n", "\n    ")
        lines.append(f"{finding.location.place()} {finding.code} {message}")
        if finding.pass_ is not rule.passes[0]:
            lines.append(f"    pass: {finding.pass_.value}")
        if finding.severity is not rule.severity:
            lines.append(f"    severity: {finding.severity.value}")
        if finding.fix is not None:
            lines.append(f"    fix: {finding.fix.title}{'' if finding.fix.safe else ' (unsafe)'}")
            lines.extend(f"    | {line}".rstrip() for line in _fix_lines(finding, read_text))
    return "".join(line + "\n" for line in lines)


def _fix_lines(finding: Finding, read_text: Callable[[str], Optional[str]]) -> List[str]:
    """The fix as a unified diff of the file; as a list of edits where there is no plain text to diff."""
    assert finding.fix is not None
    edits = finding.fix.edits
    text = read_text(finding.location.path)
    if text is None or finding.location.cell is not None or any(edit.cell is not None for edit in edits):
        return [f"edit {e.line}:{e.column}-{e.end_line}:{e.end_column} -> {e.text!r}" for e in edits]
    return unified_diff(finding.location.path, text, apply_edits(text, edits)).splitlines()


@pytest.mark.parametrize("case", PARAMS)
def test_fixture(case, request, tmp_path_factory):
    expected_file = case.with_name(case.stem + ".expected")
    _, actual = _lint(case, tmp_path_factory)
    if request.config.getoption("--update-fixtures"):
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"missing {expected_file.name}: run with --update-fixtures"
    expected = expected_file.read_text(encoding="utf-8")
    assert _parser_wording_masked(actual) == _parser_wording_masked(expected)


# NN001 quotes CPython's own syntax-error wording, which changed in 3.10 (the new parser says
# "expected ':'" where 3.9 says "invalid syntax"); the expectations pin the 3.10+ wording.
_PARSER_WORDING = re.compile(r"(NN001 Syntax error: ).*?(\. nnlint checks nothing else)")


def _parser_wording_masked(text: str) -> str:
    if sys.version_info >= (3, 10):
        return text
    return _PARSER_WORDING.sub(r"\1<parser wording>\2", text)


@pytest.mark.parametrize("case", PARAMS)
def test_fixture_names_say_what_to_expect(case, tmp_path_factory):
    """`ok_*` cases are near-misses and must stay silent under every pass they run; the others must raise
    their folder's rule."""
    findings, actual = _lint(case, tmp_path_factory)
    if case.stem.startswith("ok_"):
        assert actual == ""
    else:
        assert case.parent.name in {finding.code for finding in findings}, actual


def test_every_rule_has_a_firing_case_and_a_near_miss():
    """A rule is its module, its page and its fixtures: at least one case that fires and one `ok_*` case."""
    folders = {path.name for path in FIXTURES.glob("NN*")}
    assert folders <= {rule.code for rule in ALL_RULES}, "a fixtures folder for no rule"
    incomplete = []
    for rule in ALL_RULES:
        stems = [case.stem for case in CASES if case.parent.name == rule.code]
        if rule.code in NO_CASES:
            assert NO_CASES[rule.code].is_file(), f"{NO_CASES[rule.code]} must say why {rule.code} has no cases"
            assert not stems, f"{rule.code} has cases now: drop it from NO_CASES"
            continue
        if not any(stem.startswith("ok_") for stem in stems) or all(stem.startswith("ok_") for stem in stems):
            incomplete.append(rule.code)
    assert incomplete == [], f"rules without a firing case and an ok_* case in fixtures/: {incomplete}"
