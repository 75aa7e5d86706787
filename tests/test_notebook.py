"""Jupyter notebooks: code cells checked as one program, findings named by cell, fixes written into cells only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnlint.cli import main
from nnlint.notebook import cell_positions, definitions, program, rebuild

MODEL_CELL = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.bn(self.conv(x)).mean((2, 3))
        return F.softmax(self.fc(x), dim=1)"""

TRAIN_CELL = """model = Net()
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(2, 3, 8, 8), torch.tensor([1, 2])
loss = criterion(model(x), y)
loss.backward()"""

IMPORTS = "!pip install torch\n%matplotlib inline\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F"


def cell(kind: str, source: str, **extra) -> dict:
    data = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        data.update(execution_count=None, outputs=[])
    data.update(extra)
    return data


def notebook(*cells: dict) -> dict:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write(path: Path, data: dict) -> Path:
    """Saved the way Jupyter saves (nbformat: indent 1, sorted keys, UTF-8, final newline)."""
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def training_notebook(path: Path) -> Path:
    """Model in cell 3, training in cell 7, markdown and magics between."""
    return write(
        path,
        notebook(
            cell("markdown", "# Training\n"),
            cell("code", IMPORTS),
            cell("code", MODEL_CELL),
            cell("markdown", "Now train it."),
            cell("code", "%%bash\necho 'not python'\n   (odd indent"),
            cell("code", "files = !ls\n%timeit 1 + 1\nsizes?"),
            cell(
                "code",
                TRAIN_CELL,
                outputs=[{"output_type": "stream", "name": "stdout", "text": ["done\n"]}],
                execution_count=7,
            ),
        ),
    )


def nnlint(capsys, *args):
    code = main(["--no-graph", "--no-cache", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cells_are_one_program_and_findings_name_the_cell(project, capsys):
    training_notebook(project / "train.ipynb")
    code, out, _ = nnlint(capsys, "--format", "text", "train.ipynb")
    assert code == 1
    lines = out.splitlines()
    # NN201 needs the model of cell 3 to judge the loss call in cell 7
    assert any(line.startswith("train.ipynb:cell 7:4:18: NN201 ") for line in lines), out
    assert any(line.startswith("train.ipynb:cell 3:9:21: NN402 ") for line in lines), out
    assert "NN001" not in out  # magics, shell escapes and the %%bash cell are skipped
    # "line N" in a message names the cell's line, and the cell when it is another one
    nn402 = next(line for line in lines if " NN402 " in line)
    assert "`nn.Conv2d` (line 4)" in nn402


def test_json_and_sarif_carry_the_cell(project, capsys):
    training_notebook(project / "train.ipynb")
    (project / "plain.py").write_text(
        "import torch.nn as nn\nhead = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(16))\n"
    )
    _, out, _ = nnlint(capsys, "--format", "json", "train.ipynb", "plain.py")
    findings = json.loads(out)
    by_code = {f["code"]: f for f in findings}
    assert (by_code["NN201"]["cell"], by_code["NN201"]["line"], by_code["NN201"]["column"]) == (7, 4, 18)
    assert "cell" not in by_code["NN401"]  # plain files keep exactly the documented keys
    edits = by_code["NN402"]["fix"]["edits"]
    assert edits == [{"line": 4, "column": 38, "end_line": 4, "end_column": 38, "text": ", bias=False", "cell": 3}]

    _, out, _ = nnlint(capsys, "--format", "sarif", "train.ipynb")
    results = json.loads(out)["runs"][0]["results"]
    nn201 = next(r for r in results if r["ruleId"] == "NN201")
    location = nn201["locations"][0]
    assert location["properties"] == {"cell": 7}
    assert location["physicalLocation"]["region"]["startLine"] == 4
    assert location["logicalLocations"][0] == {
        "name": "cell 7",
        "kind": "module",
        "fullyQualifiedName": "train.ipynb:cell 7",
    }


def test_sarif_for_notebooks_is_valid(project, capsys):
    from tests.test_reporters import sarif_errors

    training_notebook(project / "train.ipynb")
    _, out, _ = nnlint(capsys, "--format", "sarif", "train.ipynb")
    assert sarif_errors(json.loads(out)) == []


def test_github_annotations_name_the_cell_not_a_json_line(project, capsys):
    training_notebook(project / "train.ipynb")
    _, out, _ = nnlint(capsys, "--format", "github", "train.ipynb")
    line = next(line for line in out.splitlines() if "NN201" in line)
    assert line.startswith("::error file=train.ipynb,title=NN201 softmax-before-cross-entropy::cell 7, line 4: ")


def test_rich_output_shows_the_cell_and_its_line(project, capsys):
    training_notebook(project / "train.ipynb")
    _, out, _ = nnlint(capsys, "--format", "rich", "train.ipynb")
    assert "cell 7:4:18" in out
    assert "4 | loss = criterion(model(x), y)" in out


def test_suppression_comment_inside_a_cell(project, capsys):
    silenced = TRAIN_CELL.replace("loss = criterion(model(x), y)", "loss = criterion(model(x), y)  # noqa: NN201")
    write(project / "nb.ipynb", notebook(cell("code", IMPORTS), cell("code", MODEL_CELL), cell("code", silenced)))
    _, out, _ = nnlint(capsys, "--format", "text", "nb.ipynb")
    assert "NN201" not in out and "NN402" in out


def test_fix_rewrites_only_the_affected_cell(project, capsys):
    path = training_notebook(project / "train.ipynb")
    before = path.read_text(encoding="utf-8")
    code, out, err = nnlint(capsys, "--format", "text", "--fix", "--unsafe-fixes", "train.ipynb")
    after = path.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [
        (
            '    "        self.conv = nn.Conv2d(3, 8, 3)\\n",',
            '    "        self.conv = nn.Conv2d(3, 8, 3, bias=False)\\n",',
        )
    ]
    assert len(before.splitlines()) == len(after.splitlines())
    data = json.loads(after)
    assert data["cells"][6]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": ["done\n"]}]
    assert data["cells"][4]["source"] == ["%%bash\n", "echo 'not python'\n", "   (odd indent"]  # IPython kept verbatim
    assert "NN402" not in out and "NN201" in out
    # a second run has nothing left to fix and changes nothing
    nnlint(capsys, "--fix", "--unsafe-fixes", "train.ipynb")
    assert path.read_text(encoding="utf-8") == after


def test_diff_is_shown_per_cell(project, capsys):
    path = training_notebook(project / "train.ipynb")
    before = path.read_bytes()
    _, out, _ = nnlint(capsys, "--diff", "--unsafe-fixes", "train.ipynb")
    assert "--- a/train.ipynb:cell 3\n+++ b/train.ipynb:cell 3\n" in out
    assert "+        self.conv = nn.Conv2d(3, 8, 3, bias=False)" in out
    assert path.read_bytes() == before


def test_fix_leaves_a_notebook_whose_layout_cannot_be_reproduced(project, capsys):
    path = project / "odd.ipynb"
    data = notebook(cell("code", IMPORTS), cell("code", MODEL_CELL))
    path.write_text(json.dumps(data, indent=3, separators=(",", " : ")), encoding="utf-8")
    before = path.read_bytes()
    _, out, err = nnlint(capsys, "--format", "text", "--fix", "--unsafe-fixes", "odd.ipynb")
    assert path.read_bytes() == before
    assert "not changed" in out + err


def test_malformed_notebooks_are_nn002_and_others_are_still_checked(project, capsys):
    (project / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    (project / "old.ipynb").write_text('{"worksheets": []}', encoding="utf-8")
    (project / "binary.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    training_notebook(project / "good.ipynb")
    code, out, _ = nnlint(capsys, "--format", "text", ".")
    assert code == 1
    for name in ("broken.ipynb", "old.ipynb", "binary.ipynb"):
        assert any(line.startswith(f"{name}:1:1: NN002 ") for line in out.splitlines()), out
    assert "good.ipynb:cell 7:4:18: NN201" in out


def test_syntax_error_in_a_cell_points_into_that_cell(project, capsys):
    write(
        project / "nb.ipynb",
        notebook(
            cell("markdown", "x"),
            cell("code", "import torch.nn as nn\n"),
            cell("code", "model = nn.Linear(2, 2\nprint(model)"),
        ),
    )
    _, out, _ = nnlint(capsys, "--format", "text", "nb.ipynb")
    assert out.startswith("nb.ipynb:cell 3:"), out
    assert " NN001 " in out


def test_folders_include_notebooks_but_not_checkpoints(project, capsys):
    training_notebook(project / "train.ipynb")
    (project / ".ipynb_checkpoints").mkdir()
    training_notebook(project / ".ipynb_checkpoints" / "train-checkpoint.ipynb")
    _, out, _ = nnlint(capsys, "--format", "text", ".")
    assert "train.ipynb:cell 7" in out
    assert "checkpoint" not in out


def test_program_keeps_python_lines_that_start_with_percent():
    """`%` at the start of a continuation line is Python (modulo), not a magic."""
    source = "import torch\nx = (torch.arange(10)\n     % 3)\n"
    text = program(json.dumps(notebook(cell("code", source))).encode())
    assert "     % 3)" in text


def test_cell_positions_and_rebuild_round_trip():
    data = notebook(cell("code", "a = 1\n%time a"), cell("markdown", "m"), cell("code", ""), cell("code", "b = 2\n"))
    raw = (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    text = program(raw)
    positions = cell_positions(text)
    assert positions[:3] == (None, (1, 1), (1, 2))
    assert rebuild(raw, text) == raw
    assert rebuild(raw, text.replace("b = 2", "b = 3")) == raw.replace(b"b = 2", b"b = 3")


def test_string_sources_and_crlf_layouts_round_trip():
    data = notebook(cell("code", "a = 1\n"))
    data["cells"][0]["source"] = "a = 1\nb = 2"
    raw = (json.dumps(data, indent=2).replace("\n", "\r\n") + "\r\n").encode()
    text = program(raw)
    fixed = rebuild(raw, text.replace("b = 2", "b = 3"))
    assert fixed == raw.replace(b"b = 2", b"b = 3")


def test_definitions_keep_line_numbers_and_drop_everything_that_runs():
    text = "import torch\nHIDDEN = 4\nclass A:\n    pass\ntrain()\nx = make()\nimport os; os.remove('f')\n@dec\ndef f():\n    return 1\n"
    kept = definitions(text).splitlines()
    assert kept == [
        "import torch",
        "HIDDEN = 4",
        "class A:",
        "    pass",
        "",
        "",
        "",
        "@dec",
        "def f():",
        "    return 1",
    ]


@pytest.mark.torch
def test_graph_pass_checks_a_notebook_model_without_running_its_other_cells(project, capsys):
    pytest.importorskip("torch")
    marker = project / "MARKER"
    model = (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(32, HIDDEN)\n"
        "        self.fc2 = nn.Linear(128, 10)\n\n    def forward(self, x):\n        return self.fc2(torch.relu(self.fc1(x)))"
    )
    write(
        project / "nb.ipynb",
        notebook(
            cell("markdown", "# A model"),
            cell("code", "%matplotlib inline\nimport torch\nimport torch.nn as nn\nHIDDEN = 64"),
            cell("code", model),
            cell("code", f"open({str(marker)!r}, 'w').write('ran')\nmodel = Net()\nmodel(torch.randn(4, 32))"),
        ),
    )
    code = main(["--no-cache", "--format", "text", "nb.ipynb"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert out.startswith("nb.ipynb:cell 3:8:"), out
    assert " NN301 " in out and "expects 128 input features" in out
    assert not marker.exists()  # only imports, definitions and constants ran
