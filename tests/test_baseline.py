"""`--write-baseline` / `--baseline`: known findings stay quiet through unrelated edits; new ones fail the run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from adopt_support import NET, later_commit, make_repo, nnlint, places, reported
from test_notebook import cell, notebook, write

from nnlint.baseline import Baseline, split
from nnlint.cli import main
from nnlint.fingerprint import enclosing_names, fingerprints, flagged_text, normalized
from nnlint.types import Finding, Location, Pass, Severity


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def test_baseline_hides_known_findings_through_edits_above_them_and_reports_the_new_bug(repo, capsys):
    code, _, err = nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    assert code == 0 and "recorded 4 findings" in err
    written = json.loads((repo / "nnlint-baseline.json").read_text(encoding="utf-8"))
    assert sorted({entry["code"] for entry in written["findings"]}) == ["NN201", "NN306", "NN402", "NN408"]

    later_commit(repo)
    assert len(reported(capsys, ".")[1]) == 5  # every finding moved down; one is new
    code, findings = reported(capsys, "--baseline", "nnlint-baseline.json", ".")
    assert code == 1
    assert places(findings) == [("NN201", "train.py", 21)]


def test_nothing_new_exits_zero_and_statistics_count_the_known_ones(repo, capsys):
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    code, out, err = nnlint(capsys, "--baseline", "nnlint-baseline.json", "--format", "text", ".")
    assert (code, out) == (0, "")
    code, out, err = nnlint(capsys, "--baseline", "nnlint-baseline.json", "--statistics", "--format", "text", ".")
    assert code == 0 and "4 known findings of the baseline nnlint-baseline.json remain" in err


def test_a_fixed_finding_disappears_and_the_baseline_never_grows(repo, capsys):
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    before = (repo / "nnlint-baseline.json").read_bytes()
    net = repo / "models" / "net.py"
    net.write_text(NET.replace("nn.Linear(8, 16)", "nn.Linear(8, 16, bias=False)"), encoding="utf-8")
    code, out, err = nnlint(capsys, "--baseline", "nnlint-baseline.json", "--statistics", "--format", "text", ".")
    assert code == 0 and out == ""
    assert "3 known findings" in err and "1 is fixed" in err
    # Checking only train.py does not count the entries of models/net.py as fixed.
    code, out, err = nnlint(capsys, "--baseline", "nnlint-baseline.json", "--statistics", "train.py")
    assert "2 known findings" in err and "fixed" not in err
    # The fixed bug comes back: it was known, so it stays quiet; the file itself was never rewritten.
    net.write_text(NET, encoding="utf-8")
    assert reported(capsys, "--baseline", "nnlint-baseline.json", ".") == (0, [])
    assert (repo / "nnlint-baseline.json").read_bytes() == before


def test_reformatting_keeps_findings_known(repo, capsys):
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    net = repo / "models" / "net.py"
    reformatted = (
        NET.replace(
            "nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())", "nn.Linear(8,16),  nn.BatchNorm1d(16),nn.ReLU())"
        )
        .replace("p=0.1))", "p = 0.1))  # regularise")
        .replace("    ", "  ")
    )
    net.write_text(reformatted, encoding="utf-8")
    assert reported(capsys, "--baseline", "nnlint-baseline.json", ".") == (0, [])


def test_the_configured_baseline_applies_from_any_folder_and_no_baseline_shows_all(repo, capsys, monkeypatch):
    (repo / "ci").mkdir()
    nnlint(capsys, "--write-baseline", "ci/known.json", ".")
    (repo / "pyproject.toml").write_text('[tool.nnlint]\nbaseline = "ci/known.json"\n', encoding="utf-8")
    later_commit(repo)
    assert places(reported(capsys, ".")[1]) == [("NN201", "train.py", 21)]
    monkeypatch.chdir(repo / "models")
    assert reported(capsys, ".") == (0, [])  # paths in the baseline are relative to its folder, not to the cwd
    assert len(reported(capsys, "--no-baseline", ".")[1]) == 2


def test_a_missing_or_foreign_baseline_is_a_usage_error(repo, capsys):
    code, _, err = nnlint(capsys, "--baseline", "nope.json", ".")
    assert code == 2 and "nope.json not found" in err and "--write-baseline" in err
    (repo / "probe.json").write_text('{"format": "nnlint-probe-baseline", "targets": {}}', encoding="utf-8")
    code, _, err = nnlint(capsys, "--baseline", "probe.json", ".")
    assert code == 2 and "nnlint probe --baseline" in err


def test_notebook_findings_stay_known_when_a_cell_is_inserted_above(repo, capsys):
    imports = cell("code", "import torch.nn as nn\nimport torch.nn.functional as F\n")
    model = cell("code", "class Head(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, p=0.1)\n")
    write(repo / "explore.ipynb", notebook(cell("markdown", "# Explore\n"), imports, model))
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", "explore.ipynb")
    added = cell("code", "x = 1\n\n")
    write(
        repo / "explore.ipynb", notebook(cell("markdown", "# Explore\n"), added, imports, cell("markdown", "m"), model)
    )
    assert reported(capsys, "--baseline", "nnlint-baseline.json", "explore.ipynb") == (0, [])
    assert [f["cell"] for f in reported(capsys, "explore.ipynb")[1]] == [5]


def _finding(code: str, line: int, pass_: Pass = Pass.STATIC, end_line=None, end_column=None) -> Finding:
    return Finding(code, "name", "message", Severity.ERROR, pass_, Location("m.py", line, 5, end_line, end_column))


def test_fingerprints_ignore_the_pass_and_line_numbers_but_not_the_code():
    text = "x = 1\n    loss = criterion(probs, y)\n"
    moved = "# new\n\n" + text
    static, graph = _finding("NN201", 2), _finding("NN201", 4, Pass.GRAPH)
    assert fingerprints([static], {"m.py": text}.get) == fingerprints([graph], {"m.py": moved}.get)
    assert fingerprints([static], {"m.py": text}.get) != fingerprints(
        [replace(static, code="NN202")], {"m.py": text}.get
    )
    known = Baseline(Path("b.json"), {fingerprints([static], {"m.py": text}.get)[0]: "m.py"})
    assert split([graph], {"m.py": moved}.get, known, Path(".")).new == ()


def test_a_short_span_is_fingerprinted_by_its_code_without_spaces_or_comments():
    text = "loss = criterion(\n    probs,  # why\n    y)\n"
    location = Location("m.py", 1, 8, 3, 7)
    assert normalized(flagged_text(text, location)) == "criterion(probs,y)"
    assert normalized("s = '# not a comment'  # a comment") == "s='#notacomment'"
    assert flagged_text(text, Location("m.py", 9, 1)) is None


GRAPH_MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.spare = nn.Linear(16, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(self.fc(x))
"""


@pytest.mark.torch
def test_graph_findings_stay_known_too(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(GRAPH_MODEL, encoding="utf-8")
    code = main(["check", "--no-cache", "--format", "json", "net.py"])
    found = json.loads(capsys.readouterr().out)
    assert code == 1 and [(f["code"], f["pass"]) for f in found] == [("NN303", "graph")]
    main(["check", "--no-cache", "--write-baseline", "known.json", "net.py"])
    (tmp_path / "net.py").write_text("import math\n\nSCALE = math.pi\n" + GRAPH_MODEL, encoding="utf-8")
    assert main(["check", "--no-cache", "--format", "json", "--baseline", "known.json", "net.py"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_same_buggy_line_pasted_into_a_new_function_above_is_the_one_reported(repo, capsys):
    nnlint(capsys, "--write-baseline", "nnlint-baseline.json", ".")
    pasted = "def warmup(x, y):\n    probs = F.softmax(net(x), dim=1)\n    return criterion(probs, y)\n\n\n"
    train = repo / "train.py"
    train.write_text(train.read_text(encoding="utf-8").replace("def step(", pasted + "def step("), encoding="utf-8")
    code, findings = reported(capsys, "--baseline", "nnlint-baseline.json", ".")
    assert code == 1 and places(findings) == [("NN201", "train.py", 12)]
    assert "return criterion(probs, y)" == train.read_text(encoding="utf-8").splitlines()[11].strip()


def test_enclosing_names_come_from_indentation():
    text = "class Net:\n    def forward(self, x):\n        if x:\n\n            return f(x)\n    y = 1\nz = 2\n"
    assert enclosing_names(text, Location("m.py", 5, 13)) == "Net.forward"
    assert enclosing_names(text, Location("m.py", 6, 5)) == "Net"
    assert enclosing_names(text, Location("m.py", 7, 1)) == ""
    wrapped = 'def make(\n    a: int,\n) -> int:  # why\n    s = """\nat column 0\n"""\n    return f(a)\n'
    assert enclosing_names(wrapped, Location("m.py", 7, 5)) == "make"
