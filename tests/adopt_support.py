"""A small git repository with existing findings of several codes, and edits that move them: the adoption tests
(baseline, --add-noqa, --diff-base) all start from it."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

from nnlint.cli import main

NET = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            return self.head(F.dropout(self.body(x), p=0.1))
    """
)

TRAIN = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F

    from models.net import Net

    net = Net()
    criterion = nn.CrossEntropyLoss()


    def step(x, y):
        logits = net.forward(x)
        probs = F.softmax(logits, dim=1)
        return criterion(probs, y)
    """
)

# The one bug the "later commit" adds: softmax probabilities into CrossEntropyLoss (NN201), in a new function.
NEW_BUG = textwrap.dedent(
    """\


    def evaluate(x, y):
        return criterion(F.softmax(net(x), dim=-1), y)
    """
)


def git(cwd: Path, *args: str) -> str:
    """Run git quietly with a fixed identity; the output."""
    command = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false"]
    return subprocess.run([*command, *args], cwd=str(cwd), check=True, capture_output=True, text=True).stdout


def make_repo(root: Path) -> Path:
    """models/net.py (NN402, NN408) and train.py (NN306, NN201), committed."""
    (root / "models").mkdir(parents=True)
    (root / "models" / "__init__.py").write_text("", encoding="utf-8")
    (root / "models" / "net.py").write_text(NET, encoding="utf-8")
    (root / "train.py").write_text(TRAIN, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "existing code")
    return root


def insert_above_every_line(path: Path) -> None:
    """An unrelated edit everywhere: a new statement above every statement, at its indentation."""
    out: List[str] = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        stripped = line.strip()
        if stripped and not stripped.startswith(("def ", "class ", "import ", "from ", "return ", "@")):
            indent = re.match(r"\s*", line).group()
            out.append(f"{indent}_marker = 'unrelated'  # an edit above\n")
        out.append(line)
    path.write_text("".join(out), encoding="utf-8")


def later_commit(root: Path) -> None:
    """Code inserted above every finding, and one new bug at the end of train.py; committed."""
    for path in (root / "models" / "net.py", root / "train.py"):
        insert_above_every_line(path)
    with open(root / "train.py", "a", encoding="utf-8") as out:
        out.write(NEW_BUG)
    git(root, "commit", "-qam", "unrelated edits and one new bug")


def nnlint(capsys, *args: str) -> Tuple[int, str, str]:
    """`nnlint check --no-graph --no-cache ARGS` in-process: (exit code, stdout, stderr)."""
    code = main(["check", "--no-graph", "--no-cache", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


def reported(capsys, *args: str) -> Tuple[int, List[Dict]]:
    """Exit code and the JSON findings of a run."""
    code, out, err = nnlint(capsys, "--format", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


def places(findings: List[Dict]) -> List[Tuple[str, str, int]]:
    """(code, path, line) of each finding."""
    return [(f["code"], f["path"], f["line"]) for f in findings]
