"""`--diff-base REF`: only findings on lines changed since a git ref (committed, staged, unstaged or untracked)."""

from __future__ import annotations

import pytest
from adopt_support import NET, TRAIN, git, later_commit, make_repo, nnlint, places, reported
from test_notebook import cell, notebook, write

from nnlint.changed_lines import parse_diff


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def test_only_the_bug_on_changed_lines_is_reported(repo, capsys):
    later_commit(repo)
    code, findings = reported(capsys, "--diff-base", "HEAD~1", ".")
    assert code == 1
    assert places(findings) == [("NN201", "train.py", 21)]
    assert reported(capsys, "--diff-base", "HEAD", ".") == (0, [])  # nothing changed since the last commit


def test_uncommitted_edits_and_untracked_files_count(repo, capsys):
    (repo / "train.py").write_text(TRAIN.replace("dim=1", "dim=-1"), encoding="utf-8")
    (repo / "scratch.py").write_text(NET, encoding="utf-8")
    code, findings = reported(capsys, "--diff-base", "HEAD", ".")
    # The edited line holds the softmax; NN201 points at the call that receives it, which did not change.
    assert ("NN201", "train.py", 13) not in places(findings)
    assert places(findings) == [("NN402", "scratch.py", 8), ("NN408", "scratch.py", 12)]
    assert code == 1


def test_paths_outside_the_working_folder_and_single_files(repo, capsys, monkeypatch):
    later_commit(repo)
    monkeypatch.chdir(repo.parent)
    findings = reported(capsys, "--diff-base", "HEAD~1", str(repo / "train.py"))[1]
    assert [(f["code"], f["line"]) for f in findings] == [("NN201", 21)]


def test_not_a_repository_or_an_unknown_ref_is_a_usage_error(tmp_path, capsys, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(plain)
    code, _, err = nnlint(capsys, "--diff-base", "HEAD", ".")
    assert code == 2 and "needs a git repository" in err
    make_repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    code, _, err = nnlint(capsys, "--diff-base", "origin/main", ".")
    assert code == 2 and "'origin/main' is not a commit" in err and "fetch-depth" in err
    code, _, err = nnlint(capsys, "--diff-base=--output=x", ".")
    assert code == 2 and "is not a git ref" in err


def test_notebooks_are_compared_cell_by_cell(repo, capsys):
    imports = cell("code", "import torch.nn as nn\nimport torch.nn.functional as F\n")
    old = "class Old(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, p=0.1)\n"
    write(repo / "nb.ipynb", notebook(imports, cell("code", old)))
    git(repo, "add", "nb.ipynb")
    git(repo, "commit", "-qm", "notebook")
    new = old.replace("Old", "New").replace("0.1", "0.2")
    write(repo / "nb.ipynb", notebook(imports, cell("code", new), cell("code", old)))
    findings = reported(capsys, "--diff-base", "HEAD", "nb.ipynb")[1]
    assert [(f["cell"], f["line"]) for f in findings] == [(2, 3)]


def test_hunks_are_parsed_with_their_counts_and_quoted_names():
    diff = "\n".join(
        [
            "diff --git a/a.py b/a.py",
            "--- a/a.py",
            "+++ b/a.py",
            "@@ -3,0 +4,2 @@",
            "+x",
            "+y",
            "@@ -10 +12 @@",
            "@@ -20,3 +23,0 @@",
            "--- a/gone.py",
            "+++ /dev/null",
            "@@ -1,2 +0,0 @@",
            '+++ "b/caf\\303\\251 \\"q\\".py"',
            "@@ -0,0 +1 @@",
        ]
    )
    assert parse_diff(diff) == {"a.py": [4, 5, 12], 'café "q".py': [1]}
