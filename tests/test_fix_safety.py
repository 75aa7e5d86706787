"""`nnlint --fix` end to end: what it writes parses and is stable, keeps the file's bytes otherwise, and never
harms a file that is broken, being edited, or whose process is killed mid-write.

tests/test_fix.py covers the machinery (edits, the re-parse guard, write_atomically) function by function;
these tests go through the command line, on files with the safe fixes of NN402 (`bias=False`) and NN408
(`training=self.training`) and on every fixture and precision snippet.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict

import pytest

from nnlint import fix
from nnlint import runner as runner_module
from nnlint.cli import main

REPO = Path(__file__).resolve().parent.parent

# NN402 (unsafe: the bias leaves the state_dict) and NN408 (safe) both have fixes; tests pass --unsafe-fixes.
MODEL = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())

        def forward(self, x):
            label = "für"
            x = F.dropout(self.fc(x), p=0.5)
            return x
    """
)
FIXED = MODEL.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)").replace(
    "p=0.5)", "p=0.5, training=self.training)"
)


def nnlint(capsys, *args: str):
    """`nnlint --no-graph --no-cache ARGS` in this process: (exit code, stdout, stderr), never a traceback."""
    code = main(["--no-graph", "--no-cache", "--format", "text", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    assert "internal error" not in err, err
    return code, out, err


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fix_writes_both_fixes_and_reparses(capsys, project):
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    code, out, err = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert path.read_text(encoding="utf-8") == FIXED
    compile(path.read_bytes(), "m.py", "exec")
    assert "fixed 2 findings in 1 file" in err
    assert "NN402" not in out and "NN408" not in out, out
    assert code == 0


def test_fix_twice_changes_nothing_the_second_time(capsys, project):
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    after_first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    code, _, err = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert path.read_bytes() == after_first
    assert path.stat().st_mtime_ns == mtime, "the file was rewritten with the same content"
    assert "fixed" not in err
    assert code == 0


def test_diff_writes_nothing(capsys, project):
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    mtime = path.stat().st_mtime_ns
    code, out, _ = nnlint(capsys, "--diff", "m.py")
    assert code == 1
    assert "+        x = F.dropout(self.fc(x), p=0.5, training=self.training)" in out
    assert path.read_text(encoding="utf-8") == MODEL and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in project.iterdir()) == ["m.py"]
    # --fix --diff shows, never writes
    nnlint(capsys, "--fix", "--unsafe-fixes", "--diff", "m.py")
    assert path.read_text(encoding="utf-8") == MODEL


@pytest.mark.parametrize(
    "name, encode",
    [
        ("crlf", lambda text: text.replace("\n", "\r\n").encode("utf-8")),
        ("bom-crlf", lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")),
        ("bom-lf", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("cr-only", lambda text: text.replace("\n", "\r").encode("utf-8")),
        ("mixed-endings", lambda text: text.replace(":\n", ":\r\n").encode("utf-8")),
        ("latin-1-coding", lambda text: ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1")),
        (
            "cp1252-coding-crlf",
            lambda text: ("# vim: set fileencoding=cp1252 :\n" + text).replace("\n", "\r\n").encode("cp1252"),
        ),
        ("no-final-newline", lambda text: text.rstrip("\n").encode("utf-8")),
        ("tabs", lambda text: text.replace("    ", "\t").encode("utf-8")),
    ],
)
def test_fix_keeps_encoding_bom_line_endings_and_mode(capsys, project, name, encode):
    """The written bytes are the original bytes with only the two fixes in them; the mode is unchanged."""
    path = project / "m.py"
    original = encode(MODEL)
    path.write_bytes(original)
    os.chmod(path, 0o751)
    nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    written = path.read_bytes()
    assert written == original.replace(b"nn.Conv2d(3, 8, 3)", b"nn.Conv2d(3, 8, 3, bias=False)").replace(
        b"p=0.5)", b"p=0.5, training=self.training)"
    ), written
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert sorted(p.name for p in project.iterdir()) == ["m.py"], "a temporary file was left behind"
    compile(written, "m.py", "exec")


@pytest.mark.parametrize(
    "source",
    [
        MODEL + "\ndef broken(:\n    pass\n",
        MODEL.replace("class Net(nn.Module):", "class Net(nn.Module)"),
        MODEL + "\nx = (\n",
    ],
    ids=["bad-def", "missing-colon", "unclosed-paren"],
)
def test_file_with_syntax_error_is_never_touched(capsys, project, source):
    path = project / "m.py"
    path.write_text(source, encoding="utf-8")
    mtime = path.stat().st_mtime_ns
    code, out, err = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert path.read_text(encoding="utf-8") == source and path.stat().st_mtime_ns == mtime
    assert "NN001" in out and "fixed" not in err
    assert code == 1


def test_undecodable_file_is_never_touched(capsys, project):
    """Latin-1 bytes without a coding line: NN002, and the bytes stay exactly as they were."""
    path = project / "m.py"
    original = MODEL.encode("latin-1")
    path.write_bytes(original)
    code, out, _ = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert path.read_bytes() == original
    assert "NN002" in out and code == 1


def test_file_changed_between_read_and_write_is_not_overwritten(capsys, project, monkeypatch):
    """The user saves the file while nnlint computes its fixes: the user's version wins, with a warning."""
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    users = MODEL.replace("nn.Linear(4, 4)", "nn.Linear(4, 8)")
    original_fix_text = fix.fix_text

    def edit_meanwhile(*args, **kwargs):
        result = original_fix_text(*args, **kwargs)
        path.write_text(users, encoding="utf-8")
        return result

    monkeypatch.setattr(fix, "fix_text", edit_meanwhile)
    code, _, err = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert path.read_text(encoding="utf-8") == users
    assert "m.py changed on disk while nnlint ran" in err
    assert "fixed" not in err.replace("not fixed", "")
    assert code == 1


def test_file_changed_between_lint_and_fix_is_not_fixed_with_stale_edits(capsys, project, monkeypatch):
    """The user saves the file after the lint read but before the fix read: the edits computed on the old
    text must not be applied at the old offsets in the new one (that inserted `training=self.training`
    into the middle of `p=0.25`)."""
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    users = MODEL.replace("p=0.5)", "p=0.25)")
    original_check_files = runner_module.check_files

    def edit_after_lint(*args, **kwargs):
        findings = original_check_files(*args, **kwargs)
        path.write_text(users, encoding="utf-8")
        return findings

    monkeypatch.setattr(runner_module, "check_files", edit_after_lint)
    nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert "training=self.training5" not in path.read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8") == users


def test_file_deleted_before_write_is_a_warning_not_a_crash(capsys, project, monkeypatch):
    """A file removed while nnlint computes its fix is not recreated, and nnlint does not call that a bug of its own."""
    path = project / "m.py"
    path.write_text(MODEL, encoding="utf-8")
    original_fix_text = fix.fix_text

    def delete_meanwhile(*args, **kwargs):
        result = original_fix_text(*args, **kwargs)
        path.unlink()
        return result

    monkeypatch.setattr(fix, "fix_text", delete_meanwhile)
    code, _, err = nnlint(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert not path.exists()
    assert code in (0, 1, 2)
    assert "m.py" in err


# --- killed mid-write ------------------------------------------------------------------------------

KILLABLE = textwrap.dedent(
    """\
    import os, sys, time
    from pathlib import Path
    import nnlint.fix
    stage, ready = sys.argv[1], Path(sys.argv[2])

    def stall(*args, **kwargs):
        ready.write_text(stage)
        time.sleep(120)

    if stage == "fsync":      # the temporary file is half written
        os.fsync = stall
    else:                     # the temporary file is complete, the rename has not happened
        os.replace = stall
    from nnlint.cli import main
    sys.exit(main(["--no-graph", "--no-cache", "--fix", "--unsafe-fixes", "m.py"]))
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_sigkill_mid_write_leaves_original_intact(project, stage):
    """SIGKILL while the temporary file is being written or before the rename: the original is byte-identical,
    and the next run fixes the file normally, undisturbed by the orphaned temporary file."""
    path = project / "m.py"
    path.write_bytes(MODEL.encode("utf-8"))
    ready = project / "ready.flag"
    script = project / "killable.py"
    script.write_text(KILLABLE, encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, str(script), stage, str(ready)],
        cwd=str(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "nnlint never reached the write"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == MODEL.encode("utf-8")
    leftovers = [p.name for p in project.iterdir() if p.name.endswith(".nnlint-tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.py."), (
        leftovers
    )  # named so no tool mistakes it for source
    script.unlink()
    ready.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "nnlint", "--no-graph", "--no-cache", "--fix", "--unsafe-fixes", "."],
        cwd=str(project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert path.read_text(encoding="utf-8") == FIXED


# --- every fixture and snippet ------------------------------------------------------------------


def _snapshot(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fix_over_all_fixtures_reparses_and_is_idempotent(capsys, tmp_path, monkeypatch, unsafe):
    """--fix on a copy of fixtures/ and bench/precision_snippets/: every changed file still compiles with
    CPython, no fixable finding is left, files that did not parse are untouched, a second run changes nothing."""
    root = tmp_path / "tree"
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    shutil.copytree(REPO / "bench" / "precision_snippets", root / "snippets")
    monkeypatch.chdir(root)
    before = _snapshot(root)
    flags = ["--fix", "--unsafe-fixes"] if unsafe else ["--fix"]
    main(["--no-graph", "--no-cache", "--select", "ALL", "--format", "json", *flags, "fixtures", "snippets"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    after = _snapshot(root)
    changed = sorted(name for name in before if after[name] != before[name])
    assert changed, "no fixture was fixed: this test would prove nothing"
    assert set(after) == set(before), "files were added or removed"
    for name in changed:
        assert name.endswith(".py"), name
        try:
            ast.parse(before[name])
        except SyntaxError:
            pytest.fail(f"{name} did not parse but was changed")
        compile(after[name], name, "exec", dont_inherit=True)
    import json

    remaining = [f for f in json.loads(out) if f["fix"] is not None and (f["fix"]["safe"] or unsafe)]
    assert remaining == [], remaining
    main(["--no-graph", "--no-cache", "--select", "ALL", "--format", "json", *flags, "fixtures", "snippets"])
    _, err = capsys.readouterr()
    assert _snapshot(root) == after, "a second --fix changed files"
    assert "fixed" not in err
