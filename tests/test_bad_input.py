"""The command line on bad input: unparsable, unreadable or missing files, exit codes, subcommands."""

import json
import os
import subprocess
import sys

import pytest

from nnlint.cli import main
from nnlint.pages import page_text
from nnlint.rules import ALL_RULES

BUG = "import torch.nn as nn\nhead = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(16))\n"
CLEAN = "import torch.nn as nn\nhead = nn.Sequential(nn.BatchNorm1d(16), nn.Dropout(0.5))\n"


def nnlint(capsys, *args):
    """Run `nnlint ARGS` in this process; return (exit code, stdout, stderr)."""
    code = main(["--format", "text", *args] if args and args[0] not in ("rule", "rules") else list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out, err


def nnlint_process(*args, cwd):
    """Run `python -m nnlint ARGS` in a fresh interpreter; return the finished process."""
    result = subprocess.run(
        [sys.executable, "-m", "nnlint", *args],
        cwd=str(cwd),
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def findings(out):
    """(path, line, column, code) of each finding line of the text report."""
    rows = []
    for line in out.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            rows.append((parts[0], int(parts[1]), int(parts[2]), parts[3].split()[0]))
    return rows


def message_of(out, code):
    """The text of the first finding with this code."""
    return next(line for line in out.splitlines() if f" {code} " in line)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty folder, made the working folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- files that do not parse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, line, column",
    [
        ("import torch\n\ndef f(:\n    pass\n", 3, 7),
        ("import torch\nfor batch in loader\n    pass\n", 2, 20),
    ],
    ids=["bad-parameters", "missing-colon"],
)
def test_syntax_error_is_nn001_at_exact_place(capsys, project, source, line, column):
    """A syntax error is one NN001 at Python's own (1-based) line and column."""
    (project / "broken.py").write_text(source, encoding="utf-8")
    code, out, _ = nnlint(capsys, "broken.py")
    assert code == 1
    assert findings(out) == [("broken.py", line, column, "NN001")]


def test_syntax_error_does_not_stop_other_files(capsys, project):
    """Files checked with an unparsable one still get their findings."""
    (project / "a_broken.py").write_text("def f(:\n", encoding="utf-8")
    (project / "b_model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "a_broken.py", "b_model.py")
    assert code == 1
    assert [(path, row_code) for path, _, _, row_code in findings(out)] == [
        ("a_broken.py", "NN001"),
        ("b_model.py", "NN401"),
    ]


def test_syntax_error_in_model_file_leaves_training_script_checked(capsys, project):
    """A broken model file does not crash the cross-file analysis of the script that imports it."""
    (project / "model.py").write_text("class Net(nn.Module:\n", encoding="utf-8")
    (project / "train.py").write_text("from model import Net\n" + BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, ".")
    assert code == 1
    assert [(path, row_code) for path, _, _, row_code in findings(out)] == [
        ("model.py", "NN001"),
        ("train.py", "NN401"),
    ]


# --- files that cannot be read or decoded --------------------------------------------------------


def test_latin1_bytes_on_first_line_say_not_utf8(capsys, project):
    """Latin-1 bytes with no coding line: NN002 says the file is not UTF-8 and how to fix it."""
    (project / "legacy.py").write_bytes('label = "caf\xe9"\n'.encode("latin-1"))
    code, out, _ = nnlint(capsys, "legacy.py")
    assert code == 1
    assert findings(out) == [("legacy.py", 1, 1, "NN002")]
    message = message_of(out, "NN002").lower()
    assert "utf-8" in message and "coding" in message, message
    assert "encoding declaration (" not in message, message


def test_latin1_bytes_later_in_file_say_not_utf8(capsys, project):
    """Latin-1 bytes past the coding-line window: NN002 names UTF-8, the byte's line and the fix."""
    (project / "legacy.py").write_bytes('import torch\n\nlabel = "caf\xe9"\n'.encode("latin-1"))
    code, out, _ = nnlint(capsys, "legacy.py")
    assert code == 1
    assert [row[3] for row in findings(out)] == ["NN002"]
    message = message_of(out, "NN002").lower()
    assert "utf-8" in message and "line 3" in message and "coding" in message, message


def test_declared_latin1_file_is_read(capsys, project):
    """A coding line makes latin-1 bytes valid source, and the file is checked normally."""
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUG
    (project / "legacy.py").write_bytes(source.encode("latin-1"))
    code, out, _ = nnlint(capsys, "legacy.py")
    assert code == 1
    assert [row[3] for row in findings(out)] == ["NN401"]


def test_utf8_bom_is_read(capsys, project):
    """A UTF-8 byte order mark is not an error, and line numbers are unchanged."""
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + BUG.encode("utf-8"))
    code, out, _ = nnlint(capsys, "bom.py")
    assert code == 1
    assert [(row[1], row[3]) for row in findings(out)] == [(2, "NN401")]


def test_unknown_declared_encoding_is_nn002(capsys, project):
    """A coding line naming no real codec is NN002 that names the codec."""
    (project / "odd.py").write_text("# -*- coding: klingon -*-\nx = 1\n", encoding="ascii")
    code, out, _ = nnlint(capsys, "odd.py")
    assert code == 1
    assert [row[3] for row in findings(out)] == ["NN002"]
    assert "klingon" in message_of(out, "NN002")


def test_binary_file_named_explicitly_is_nn002(capsys, project):
    """A file with NUL bytes is NN002, not a crash or a parse error."""
    (project / "weights.py").write_bytes(b"PK\x03\x04\x00\x00import torch\x00\xff\xfe")
    code, out, _ = nnlint(capsys, "weights.py")
    assert code == 1
    assert findings(out) == [("weights.py", 1, 1, "NN002")]
    assert "binary" in message_of(out, "NN002").lower()


def test_broken_symlink_named_explicitly_is_nn002(capsys, project):
    """A symlink to nothing is NN002 that says the link is broken."""
    try:
        (project / "gone.py").symlink_to(project / "nowhere.py")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symlinks here")
    code, out, _ = nnlint(capsys, "gone.py")
    assert code == 1
    assert findings(out) == [("gone.py", 1, 1, "NN002")]
    assert "broken symbolic link" in message_of(out, "NN002")


def test_broken_symlink_in_folder_walk_does_not_crash(capsys, project):
    """A broken symlink met while walking a folder is reported or skipped, never a crash."""
    try:
        (project / "gone.py").symlink_to(project / "nowhere.py")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symlinks here")
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, ".")
    assert code == 1
    assert ("model.py", "NN401") in [(row[0], row[3]) for row in findings(out)]
    assert {row[3] for row in findings(out)} <= {"NN401", "NN002"}


def test_unreadable_file_is_nn002(capsys, project):
    """A file without read permission is NN002 that says permission was denied."""
    path = project / "secret.py"
    path.write_text(BUG, encoding="utf-8")
    path.chmod(0)
    try:
        if os.access(str(path), os.R_OK):
            pytest.skip("permissions are not enforced for this user (root?)")
        code, out, _ = nnlint(capsys, "secret.py")
    finally:
        path.chmod(0o644)
    assert code == 1
    assert findings(out) == [("secret.py", 1, 1, "NN002")]
    assert "permission" in message_of(out, "NN002").lower()


def test_missing_path_is_usage_error(capsys, project):
    """A path that does not exist: exit 2, its name on stderr, nothing checked."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, out, err = nnlint(capsys, "model.py", "no_such_file.py")
    assert code == 2
    assert "no_such_file.py" in err
    assert findings(out) == []


def test_missing_path_from_command_line(project):
    """The same through `python -m nnlint`: exit 2, a one-line error, no traceback."""
    result = nnlint_process("no_such_dir/", cwd=project)
    assert result.returncode == 2
    assert "no_such_dir" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


# --- exit codes and options ----------------------------------------------------------------------


def test_exit_zero_without_findings(capsys, project):
    """Clean code exits 0."""
    (project / "model.py").write_text(CLEAN, encoding="utf-8")
    code, out, _ = nnlint(capsys, "model.py")
    assert code == 0
    assert findings(out) == []


def test_exit_one_with_findings_and_zero_with_exit_zero(capsys, project):
    """A warning exits 1; `--exit-zero` turns that into 0 but still reports it."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    assert nnlint(capsys, "model.py")[0] == 1
    code, out, _ = nnlint(capsys, "--exit-zero", "model.py")
    assert code == 0
    assert [row[3] for row in findings(out)] == ["NN401"]


def test_empty_folder_exits_zero(capsys, project):
    """A folder with no Python files is not an error."""
    (project / "empty").mkdir()
    code, _, err = nnlint(capsys, "empty")
    assert code == 0
    assert err == ""


def test_unknown_rule_selector_is_usage_error(capsys, project):
    """`--select NOPE` exits 2 and names the selector."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, _, err = nnlint(capsys, "--select", "NOPE", "model.py")
    assert code == 2
    assert "NOPE" in err


def test_unknown_option_is_usage_error(project):
    """An unknown option exits 2 with argparse's usage message."""
    result = nnlint_process("--no-such-option", ".", cwd=project)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_output_file(capsys, project):
    """`--output FILE` writes the report there and nothing to stdout."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "--output", "report.txt", "model.py")
    assert code == 1
    assert out == ""
    assert [row[3] for row in findings((project / "report.txt").read_text(encoding="utf-8"))] == ["NN401"]


def test_output_file_in_missing_folder_is_usage_error(capsys, project):
    """`--output` into a folder that does not exist exits 2 with a message, not a traceback."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, _, err = nnlint(capsys, "--output", "no/such/dir/report.txt", "model.py")
    assert code == 2
    assert "report.txt" in err


def test_statistics(capsys, project):
    """`--statistics` prints a count per rule instead of the findings."""
    (project / "a.py").write_text(BUG, encoding="utf-8")
    (project / "b.py").write_text(BUG, encoding="utf-8")
    (project / "c.py").write_text("def f(:\n", encoding="utf-8")
    code, out, _ = nnlint(capsys, "--statistics", ".")
    assert code == 1
    rows = {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert rows == {"NN401": "2", "NN001": "1"}, out


# --- subcommands ---------------------------------------------------------------------------------


@pytest.mark.parametrize("selector", ["NN201", "softmax-before-cross-entropy"])
def test_rule_prints_page(capsys, selector):
    """`nnlint rule CODE|NAME` prints the rule's page."""
    if page_text("NN201") is None:
        pytest.skip("rules/NN201.md does not exist yet")
    code, out, _ = nnlint(capsys, "rule", selector)
    assert code == 0
    assert out.startswith("# NN201: softmax-before-cross-entropy")


def test_rule_unknown_is_usage_error(capsys):
    """`nnlint rule NOPE` exits 2 and names what it could not find."""
    code, out, err = nnlint(capsys, "rule", "NOPE")
    assert code == 2
    assert out == ""
    assert "NOPE" in err


def test_rules_lists_every_code(capsys):
    """`nnlint rules` has one line per rule, with its code and name."""
    code, out, _ = nnlint(capsys, "rules")
    assert code == 0
    for rule in ALL_RULES:
        assert any(line.split()[:2] == [rule.code, rule.name] for line in out.splitlines()), rule.code


# --- which files a folder walk checks ------------------------------------------------------------


def test_folder_walk_skips_tool_and_environment_folders(capsys, project):
    """`.git`, virtualenvs (any folder with pyvenv.cfg), `build` and `__pycache__` are not walked."""
    for folder in (".git", "env", "build", "__pycache__", "src"):
        (project / folder).mkdir()
        (project / folder / "model.py").write_text(BUG, encoding="utf-8")
    (project / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    code, out, _ = nnlint(capsys, ".")
    assert code == 1
    assert [row[0] for row in findings(out)] == ["src/model.py"]


def test_file_named_inside_excluded_folder_is_checked(capsys, project):
    """A file named explicitly is checked even inside an excluded folder."""
    (project / "build").mkdir()
    (project / "build" / "model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "build/model.py")
    assert code == 1
    assert [(row[0], row[3]) for row in findings(out)] == [("build/model.py", "NN401")]


def test_same_file_twice_is_checked_once(capsys, project):
    """A file named twice (directly and through its folder) gives its findings once."""
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "model.py", ".", "./model.py")
    assert code == 1
    assert len(findings(out)) == 1, out


def test_a_files_syntax_warnings_are_not_printed(tmp_path):
    r"""`"\d"` is a SyntaxWarning for Python's parser, which nnlint runs too: stderr must stay clean (JSON pipelines)."""
    path = tmp_path / "m.py"
    path.write_text(
        'pattern = "\\d+"\nx = 1if True else 2\n', encoding="utf-8"
    )  # no needle: only Python's parser reads it
    result = subprocess.run(
        [sys.executable, "-W", "default", "-m", "nnlint", "--no-graph", "--no-cache", "--format", "json", path.name],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stderr == "", result.stderr
    assert json.loads(result.stdout) == []


# A generated table next to a model: 25,000 tuples are 125,028 syntax nodes in ~600 KB (the limit is 40,000).
TABLE = "TABLE = [\n" + "".join(f"    ({i}, {i + 1}, {i + 2}),\n" for i in range(25_000)) + "]\n"


def test_file_over_the_node_limit_is_an_nn005_note_and_not_parsed(capsys, project):
    """NN005: a generated file too large to analyse within the memory bound is a note (exit 0), and the other
    files of the run are still checked."""
    (project / "table.py").write_text(BUG + TABLE, encoding="utf-8")
    (project / "model.py").write_text(BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "table.py", "model.py")
    assert [(row[0], row[3]) for row in findings(out)] == [("model.py", "NN401"), ("table.py", "NN005")]
    assert "125,028 syntax nodes" in message_of(out, "NN005") and "no rule checked it" in message_of(out, "NN005")
    assert nnlint(capsys, "table.py")[0] == 0


def test_large_file_of_few_nodes_is_checked(capsys, project):
    """Near miss: a file over 150 KB of mostly text (docstrings, comments) has few nodes and is analysed."""
    prose = '"""' + "A long description of the model. " * 6_000 + '"""\n'
    (project / "model.py").write_text(prose + BUG, encoding="utf-8")
    code, out, _ = nnlint(capsys, "model.py")
    assert [row[3] for row in findings(out)] == ["NN401"]
