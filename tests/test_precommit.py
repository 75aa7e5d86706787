"""The `nnlint` pre-commit hook, installed by pre-commit itself from this working tree."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"

pytestmark = pytest.mark.slow

GIT_ENV = {
    "GIT_AUTHOR_NAME": "nnlint tests",
    "GIT_AUTHOR_EMAIL": "tests@nnlint.invalid",
    "GIT_COMMITTER_NAME": "nnlint tests",
    "GIT_COMMITTER_EMAIL": "tests@nnlint.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _pre_commit() -> list:
    """The command that runs pre-commit: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "pre-commit"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("pre-commit")
    if found:
        return [found]
    pytest.skip("pre-commit is not installed (pip install -e '.[test]' installs it)")


def _git(args: list, cwd: Path, env: dict) -> str:
    """Run git and return its stdout; fail the test with git's stderr if it fails."""
    result = subprocess.run(["git", *args], cwd=str(cwd), env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def _snapshot(dest: Path, env: dict) -> Path:
    """A one-commit git repository holding this working tree's tracked and untracked, not ignored files."""
    # try-repo on the checkout itself would shadow-commit only tracked changes, leaving out
    # untracked files such as a new .pre-commit-hooks.yaml; rebuilding from disk tests what is here.
    listing = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, env)
    for name in filter(None, listing.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(["init", "-q"], dest, env)
    _git(["add", "-A"], dest, env)
    _git(["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "snapshot"], dest, env)
    return dest


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """(pre-commit command, environment, hook repository snapshot) shared by the hook tests."""
    pre_commit = _pre_commit()
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot snapshot the hook repository")
    base = tmp_path_factory.mktemp("precommit")
    # try-repo installs into a store of its own; PRE_COMMIT_HOME keeps anything else out of the user's cache
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(base / "cache"), "NO_COLOR": "1"}
    env.pop("PRE_COMMIT", None)
    return pre_commit, env, _snapshot(base / "hook-repo", env)


def _try_hook(hook_repo, hook: str, project: Path, env_extra=None) -> subprocess.CompletedProcess:
    """Run one hook of the snapshot on copies of the demo files in a fresh git repository."""
    pre_commit, env, repo = hook_repo
    env = {**env, **(env_extra or {})}
    project.mkdir()
    for name in ("model.py", "train.py"):
        shutil.copy2(DEMO / name, project / name)
    # a notebook too: the hooks declare `types_or: [python, jupyter]`
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": ["import torch.nn as nn\n", "head = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(16))\n"],
    }
    (project / "explore.ipynb").write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    _git(["init", "-q"], project, env)
    _git(["add", "-A"], project, env)
    return subprocess.run(
        [
            *pre_commit,
            "try-repo",
            str(repo),
            hook,
            "--verbose",
            "--color",
            "never",
            "--files",
            "model.py",
            "train.py",
            "explore.ipynb",
        ],
        cwd=str(project),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_nnlint_hook_reports_demo_bugs(hook_repo, tmp_path):
    """`nnlint` hook: pre-commit installs nnlint in its own env, and it fails on the demo's bugs."""
    result = _try_hook(hook_repo, "nnlint", tmp_path / "project")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "NN201" in output, output
    assert "NN401" in output, output
    assert "explore.ipynb:cell 1:2:" in output, output
    assert "Traceback" not in output, output


def test_nnlint_graph_hook_uses_the_nnlint_on_path(hook_repo, tmp_path):
    """`nnlint-graph` hook (language: system): runs the `nnlint` found on PATH, here this environment's."""
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "nnlint").is_file():
        pytest.skip("no `nnlint` script beside this interpreter")
    path = str(bin_dir) + os.pathsep + os.environ.get("PATH", "")
    result = _try_hook(hook_repo, "nnlint-graph", tmp_path / "project", {"PATH": path})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "NN201" in output, output
    assert "Traceback" not in output, output
