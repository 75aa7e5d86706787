"""The rule pages cannot lie: fixed headings, metadata that matches the registry, and examples that are linted."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from nnlint.api import check_source
from nnlint.rules import ALL_RULES
from nnlint.types import Pass

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
HEADINGS = ["## What it does", "## Why is this bad?", "## Example", "## Options", "## Known problems", "## References"]
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _page(rule) -> str:
    return (RULES_DIR / f"{rule.code}.md").read_text(encoding="utf-8")


def _meta_line(rule) -> str:
    passes = ", ".join(p.value for p in rule.passes)
    return f"Pass: {passes} · Severity: {rule.severity.value} · Fix: {rule.fix_availability}"


def _example_blocks(page: str):
    example = page.split("## Example", 1)[1].split("\n## ", 1)[0]
    bad, _, good = example.partition("Use instead:")
    return FENCE.findall(bad), FENCE.findall(good)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_has_fixed_shape(rule):
    page = _page(rule)
    lines = page.splitlines()
    assert lines[0] == f"# {rule.code}: {rule.name}"
    assert lines[1] == _meta_line(rule)
    positions = [page.find("\n" + heading + "\n") for heading in HEADINGS]
    assert all(p > 0 for p in positions), f"missing one of {HEADINGS}"
    assert positions == sorted(positions), "headings out of order"
    assert "Use instead:" in page.split("## Example", 1)[1].split("\n## ", 1)[0]


STATIC_RULES = [rule for rule in ALL_RULES if Pass.STATIC in rule.passes]
GRAPH_ONLY_RULES = [rule for rule in ALL_RULES if Pass.STATIC not in rule.passes and Pass.GRAPH in rule.passes]


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_examples_fire_and_fixes_stay_silent(rule):
    bad, good = _example_blocks(_page(rule))
    if not rule.code.startswith("NN0"):
        assert bad and good, "a rule page needs a code example that fires and one that stays silent"
    for block in bad:
        codes = [f.code for f in check_source(block, f"{rule.code}_example.py")]
        assert rule.code in codes, f"example does not raise {rule.code}:\n{block}"
    for block in good:
        findings = check_source(block, f"{rule.code}_fixed.py")
        assert findings == [], f"'Use instead' code raises {[f.code for f in findings]}:\n{block}"


@pytest.mark.torch
@pytest.mark.parametrize("rule", GRAPH_ONLY_RULES, ids=lambda r: r.code)
def test_graph_examples_fire_and_fixes_stay_silent(rule, tmp_path):
    pytest.importorskip("torch")
    from graph_support import graph_findings

    bad, good = _example_blocks(_page(rule))
    if not rule.code.startswith("NN0"):
        assert bad and good, "a rule page needs a code example that fires and one that stays silent"
    for block in bad:
        codes = [f.code for f in graph_findings(block, tmp_path)] + [f.code for f in check_source(block)]
        assert rule.code in codes, f"example does not raise {rule.code}:\n{block}"
    for block in good:
        findings = graph_findings(block, tmp_path) + check_source(block)
        assert findings == [], f"'Use instead' code raises {[(f.code, f.message) for f in findings]}:\n{block}"


PROBE_ONLY_RULES = [rule for rule in ALL_RULES if tuple(rule.passes) == (Pass.PROBE,)]


@pytest.mark.torch
@pytest.mark.parametrize("rule", PROBE_ONLY_RULES, ids=lambda r: r.code)
def test_probe_examples_fire_and_fixes_stay_silent(rule, tmp_path):
    """Probe pages show a model and a unit test calling `nnlint.probe`; the test is run in-process."""
    pytest.importorskip("torch")
    from graph_support import graph_findings
    from probe_support import probe_findings

    bad, good = _example_blocks(_page(rule))
    assert bad and good, "a rule page needs a code example that fires and one that stays silent"
    for block in bad:
        codes = [f.code for f in probe_findings(block, tmp_path, expect_failure=True)]
        assert rule.code in codes, f"example does not raise {rule.code} (got {codes}):\n{block}"
    for block in good:
        findings = probe_findings(block, tmp_path) + graph_findings(block, tmp_path) + check_source(block)
        assert findings == [], f"'Use instead' code raises {[(f.code, f.message) for f in findings]}:\n{block}"


def render_index() -> str:
    """The rules/README.md index as it must read for the current registry."""
    rows = [
        "# nnlint rules",
        "",
        "One page per rule. `nnlint rule CODE` prints a page; `nnlint rules` lists them.",
        "",
        "| Code | Name | Pass | Severity | What it flags |",
        "|---|---|---|---|---|",
    ]
    for rule in ALL_RULES:
        passes = ", ".join(p.value for p in rule.passes)
        rows.append(
            f"| [{rule.code}]({rule.code}.md) | `{rule.name}` | {passes} | {rule.severity.value} | {rule.summary()} |"
        )
    return "\n".join(rows) + "\n"


def test_index_matches_registry():
    index = RULES_DIR / "README.md"
    expected = render_index()
    if os.environ.get("NNLINT_UPDATE_DOCS"):
        index.write_text(expected, encoding="utf-8")
    assert index.read_text(encoding="utf-8") == expected, "rules/README.md is stale: rerun with NNLINT_UPDATE_DOCS=1"


def test_every_page_belongs_to_a_rule():
    codes = {rule.code for rule in ALL_RULES}
    pages = {p.stem for p in RULES_DIR.glob("NN*.md")}
    assert pages == codes


@pytest.mark.parametrize("rule", [rule for rule in ALL_RULES if rule.options], ids=lambda r: r.code)
def test_every_option_is_on_its_page(rule):
    options = _page(rule).split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    assert f"[tool.nnlint.options.{rule.code}]" in options
    for option in rule.options:
        assert f"- `{option.name}` (default {option.default!r}): " in options, f"`{option.name}` is not documented"
