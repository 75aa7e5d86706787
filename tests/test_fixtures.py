"""Every fixtures/NNxxx/<case> is linted by the static pass with all rules and must give exactly its <case>.expected findings.

A case is a .py file, or a folder whose files are linted together (cross-file analysis).
Regenerate the expectations after a deliberate change with `pytest tests/test_fixtures.py --update-fixtures`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nnlint.config import Config
from nnlint.runner import GraphOptions, run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(
    path for rule_dir in FIXTURES.glob("NN*") for path in rule_dir.iterdir() if path.suffix == ".py" or path.is_dir()
)


def _render(case: Path) -> str:
    result = run([case], Config(), cwd=case.parent, graph=GraphOptions(enabled=False))
    return "".join(f"{f.location.path}:{f.location.line}:{f.location.column} {f.code}\n" for f in result.findings)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(case, request):
    expected_file = case.with_name(case.stem + ".expected")
    actual = _render(case)
    if request.config.getoption("--update-fixtures"):
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"missing {expected_file.name}: run with --update-fixtures"
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_names_say_what_to_expect(case):
    """`ok_*` cases are near-misses and must stay silent; the others must raise their folder's rule."""
    actual = _render(case)
    rule = case.parent.name
    if case.stem.startswith("ok_"):
        assert actual == ""
    else:
        assert f" {rule}\n" in actual
