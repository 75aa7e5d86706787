#!/usr/bin/env python
"""Adopting nnlint on a copy of real code (issue 17): baseline, --add-noqa and --diff-base, with figures.

    python bench/adoption_scenario.py SRC [SRC ...]      # e.g. corpus/src/torchvision-*/torchvision/models bench/recall

Copies the sources into a scratch git repository and runs, static pass only:
  1. the existing findings (count and codes);
  2. `--write-baseline`, then a commit that inserts code above every finding (a statement before the first
     statement of every file after its docstring and `__future__` imports) and adds one new bug (softmax into
     CrossEntropyLoss), then `--baseline`: how many findings are reported and the exit code (goal: 1 and 1);
  3. the same after also reformatting everything with `ruff format --line-length 79` (lines rewrapped);
  4. `--add-noqa` on the original, then the same commit: findings reported (goal: 1);
  5. `--diff-base HEAD~1` after the commits of 2 and 3: findings reported (goal: 1 for 2; 3 rewrote lines).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent
NEW_BUG = """

import torch.nn as _adoption_nn
import torch.nn.functional as _adoption_F


def _adoption_new_bug(logits, target):
    return _adoption_nn.CrossEntropyLoss()(_adoption_F.softmax(logits, dim=1), target)
"""


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.email=bench@example.com", "-c", "user.name=bench", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=str(repo), check=True, capture_output=True)


def nnlint(repo: Path, *args: str) -> Tuple[int, List[dict], float]:
    """Exit code, JSON findings (empty for runs that print none) and wall seconds."""
    start = time.perf_counter()
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "nnlint", "check", "--no-graph", "--no-cache", "--format", "json", *args]
    done = subprocess.run(command, cwd=str(repo), capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode == 2:
        raise SystemExit(f"nnlint failed: {done.stderr}")
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else [], seconds


def insert_above_everything(repo: Path) -> int:
    """A statement before the first real statement of every parseable file; returns how many files changed."""
    changed = 0
    for path in sorted(repo.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            body = ast.parse(text).body
        except SyntaxError:
            continue
        skip = 0
        while skip < len(body) and (
            (isinstance(body[skip], ast.Expr) and isinstance(body[skip].value, ast.Constant) and skip == 0)
            or (isinstance(body[skip], ast.ImportFrom) and body[skip].module == "__future__")
        ):
            skip += 1
        if skip == len(body):
            continue
        lines = text.splitlines(keepends=True)
        at = body[skip].lineno - 1
        lines.insert(at, "_ADOPTION_MARKER = 'code added above every finding'\n\n")
        path.write_text("".join(lines), encoding="utf-8")
        changed += 1
    return changed


def later_commit(repo: Path, bug_file: Path, reformat: bool = False) -> None:
    insert_above_everything(repo)
    with open(bug_file, "a", encoding="utf-8") as out:
        out.write(NEW_BUG)
    if reformat:
        subprocess.run(
            [
                shutil.which("ruff") or str(Path(sys.executable).parent / "ruff"),
                "format",
                "--line-length",
                "79",
                "-q",
                ".",
            ],
            cwd=str(repo),
            check=False,
        )
    git(repo, "commit", "-qam", "unrelated edits and one new bug")


def fresh_repo(sources: List[Path], scratch: Path) -> Path:
    repo = scratch / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir()
    for source in sources:
        shutil.copytree(source, repo / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "existing code")
    return repo


def describe(findings: List[dict]) -> str:
    return ", ".join(f"{f['code']} {f['path']}:{f['line']}" for f in findings[:5]) + (
        " ..." if len(findings) > 5 else ""
    )


def main() -> None:
    sources = [Path(arg).resolve() for arg in sys.argv[1:]]
    if not sources:
        raise SystemExit(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        repo = fresh_repo(sources, scratch)
        files = len(list(repo.rglob("*.py")))
        code, existing, seconds = nnlint(repo, ".")
        bug_path = existing[0]["path"]
        codes = sorted({f["code"] for f in existing})
        print(
            f"existing: {len(existing)} findings of {len(codes)} codes in {files} files ({seconds:.1f} s), exit {code}"
        )

        for reformat in (False, True):
            repo = fresh_repo(sources, scratch)
            nnlint(repo, "--write-baseline", "nnlint-baseline.json", ".")
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", "baseline")
            later_commit(repo, repo / bug_path, reformat)
            _, everything, _ = nnlint(repo, "--no-baseline", ".")
            code, new, seconds = nnlint(repo, "--baseline", "nnlint-baseline.json", ".")
            label = "baseline after edits above + reformat" if reformat else "baseline after edits above"
            print(f"{label}: {len(everything)} findings in all, {len(new)} reported, exit {code}: {describe(new)}")
            code, changed, seconds = nnlint(repo, "--diff-base", "HEAD~1", "--no-baseline", ".")
            print(f"  --diff-base HEAD~1: {len(changed)} reported, exit {code} ({seconds:.1f} s): {describe(changed)}")

        repo = fresh_repo(sources, scratch)
        done = subprocess.run(
            [sys.executable, "-m", "nnlint", "check", "--no-graph", "--no-cache", "--add-noqa", "."],
            cwd=str(repo),
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        print(f"add-noqa: {done.stderr.strip().splitlines()[-1]}")
        code, left, _ = nnlint(repo, ".")
        print(f"after add-noqa: {len(left)} findings, exit {code}: {describe(left)}")
        git(repo, "commit", "-qam", "noqa")
        later_commit(repo, repo / bug_path)
        code, new, _ = nnlint(repo, ".")
        print(f"add-noqa, then edits above: {len(new)} reported, exit {code}: {describe(new)}")


if __name__ == "__main__":
    main()
