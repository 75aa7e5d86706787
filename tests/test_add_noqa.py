"""`--add-noqa`: every current finding silenced by a comment where suppression reads it; new ones still fail."""

from __future__ import annotations

import json
import textwrap

import pytest
from adopt_support import git, later_commit, make_repo, nnlint, places, reported
from test_notebook import cell, notebook, write

from nnlint.add_noqa import with_noqa


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def test_add_noqa_then_edits_above_leave_only_the_new_bug(repo, capsys):
    code, _, err = nnlint(capsys, "--add-noqa", ".")
    assert code == 0 and "added 4 noqa comments in 2 files" in err
    assert "self.head(F.dropout(self.body(x), p=0.1))  # noqa: NN408" in (repo / "models" / "net.py").read_text()
    assert reported(capsys, ".") == (0, [])
    git(repo, "commit", "-qam", "noqa")
    later_commit(repo)
    code, findings = reported(capsys, ".")
    assert code == 1 and places(findings) == [("NN201", "train.py", 21)]


def test_running_it_twice_changes_nothing(repo, capsys):
    nnlint(capsys, "--add-noqa", ".")
    before = {p: p.read_bytes() for p in repo.rglob("*.py")}
    code, _, err = nnlint(capsys, "--add-noqa", ".")
    assert code == 0 and "added 0 noqa comments in 0 files" in err
    assert before == {p: p.read_bytes() for p in repo.rglob("*.py")}


MODULE = textwrap.dedent(
    '''\
    import torch.nn as nn
    import torch.nn.functional as F


    class Odd(nn.Module):
        def forward(self, x):
            a = F.dropout(x, p=0.1)  # noqa: E501
            b = F.dropout(x, p=0.2)  # keep: explained in the paper
            c = len("""two
    lines""") + F.dropout(x, p=0.3).sum()
            d = F.dropout(x, p=0.4) + \\
                1
            return a + b + c + d
    '''
)


def test_comments_merge_and_avoid_strings_and_continuations(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "odd.py"
    path.write_bytes(MODULE.replace("\n", "\r\n").encode("utf-8"))
    assert len(reported(capsys, "odd.py")[1]) == 4
    nnlint(capsys, "--add-noqa", "odd.py")
    fixed = path.read_bytes().decode("utf-8")
    assert "\r\n" in fixed and "\n" not in fixed.replace("\r\n", "")  # line endings kept
    lines = fixed.split("\r\n")
    assert lines[6].endswith("a = F.dropout(x, p=0.1)  # noqa: E501, NN408")
    assert lines[7].endswith("# keep: explained in the paper  # noqa: NN408")
    assert lines[8].endswith('c = len("""two')  # inside a string: the comment goes on the statement's last line
    assert lines[9] == 'lines""") + F.dropout(x, p=0.3).sum()  # noqa: NN408'
    assert lines[10].endswith("+ \\")
    assert lines[11].endswith("1  # noqa: NN408")
    assert reported(capsys, "odd.py") == (0, [])


def test_a_bare_noqa_is_left_alone_and_codes_are_not_repeated():
    text = "x = f()  # noqa\ny = g()  # noqa: NN201\nz = h()\n"
    new, added, notes = with_noqa(text, {1: {"NN201"}, 2: {"NN201", "NN306"}, 3: {"NN408", "NN201"}})
    assert new == "x = f()  # noqa\ny = g()  # noqa: NN201, NN306\nz = h()  # noqa: NN201, NN408\n"
    assert (added, notes) == (2, [])


def test_a_string_that_never_closes_is_skipped_with_a_note():
    new, added, notes = with_noqa('x = """open\n', {1: {"NN201"}})
    assert (new, added) == ('x = """open\n', 0) and "does not tokenize" in notes[0]


def test_notebooks_get_their_comments_cell_by_cell(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    imports = cell("code", "import torch.nn as nn\nimport torch.nn.functional as F\n")
    model = cell("code", "class Head(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, p=0.1)\n")
    path = write(tmp_path / "nb.ipynb", notebook(cell("markdown", "# Head\n"), imports, model))
    code, _, err = nnlint(capsys, "--add-noqa", "nb.ipynb")
    assert "added 1 noqa comment in 1 file" in err
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert cells[2]["source"][-1] == "        return F.dropout(x, p=0.1)  # noqa: NN408\n"
    assert cells[1]["source"] == imports["source"]
    assert reported(capsys, "nb.ipynb") == (0, [])
