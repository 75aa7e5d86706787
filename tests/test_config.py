"""[tool.nnlint] loading: discovery, every key, every kind of error, and the effect through the CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nnlint.cli import main
from nnlint.config import (
    DEFAULT_EXCLUDE,
    Config,
    ConfigError,
    InputSpec,
    ModelSpec,
    find_pyproject,
    load_config,
    parse_table,
)
from nnlint.types import Severity

SOFTMAX_INTO_CE = """\
import torch.nn as nn
import torch.nn.functional as F
def f(x, y):
    return F.cross_entropy(F.softmax(x, dim=1), y)
"""


def write(path: Path, text: str) -> Path:
    """Write dedented text to `path`, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(tmp_path: Path, body: str) -> str:
    """The ConfigError message for a pyproject.toml whose [tool.nnlint] table is `body`."""
    write(tmp_path / "pyproject.toml", "[tool.nnlint]\n" + textwrap.dedent(body))
    with pytest.raises(ConfigError) as caught:
        load_config([tmp_path])
    message = str(caught.value)
    assert "pyproject.toml" in message
    return message


# --- discovery --------------------------------------------------------------------------------


def test_defaults_without_config(tmp_path):
    write(tmp_path / "a.py", "x = 1\n")
    config = load_config([tmp_path / "a.py"])
    assert config == Config()
    assert config.path is None and config.root is None
    assert config.select == ("ALL",) and config.exclude == DEFAULT_EXCLUDE and config.graph == "auto"
    assert config.cache_dir is None


def test_nearest_pyproject_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nignore = ["NN2"]\n')
    inner = write(tmp_path / "sub" / "pyproject.toml", '[tool.nnlint]\nignore = ["NN401"]\n')
    source = write(tmp_path / "sub" / "pkg" / "model.py", "x = 1\n")
    assert find_pyproject(source) == inner.resolve()
    assert find_pyproject(source.parent) == inner.resolve()
    config = load_config([source])
    assert config.ignore == ("NN401",)
    assert config.path == inner.resolve() and config.root == inner.parent.resolve()


def test_pyproject_without_nnlint_table_is_skipped(tmp_path):
    outer = write(tmp_path / "pyproject.toml", '[tool.nnlint]\ngraph = "off"\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "nnlint-demo"\n[tool.ruff]\nline-length = 100\n')
    write(tmp_path / "sub" / "broken" / "pyproject.toml", "[project\nname = \n")  # never mentions the tool
    source = write(tmp_path / "sub" / "broken" / "m.py", "x = 1\n")
    assert find_pyproject(source) == outer.resolve()
    assert load_config([source]).graph == "off"


def test_no_pyproject_anywhere(tmp_path):
    assert find_pyproject(tmp_path) is None


def test_common_ancestor_of_several_paths(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\ncache-dir = "top"\n')
    write(tmp_path / "a" / "pyproject.toml", '[tool.nnlint]\ncache-dir = "a"\n')
    first = write(tmp_path / "a" / "x.py", "x = 1\n")
    second = write(tmp_path / "b" / "y.py", "y = 1\n")
    assert load_config([first, second]).cache_dir == "top"
    assert load_config([first]).cache_dir == "a"


def test_cwd_when_no_paths(tmp_path, monkeypatch):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nselect = ["NN2"]\n')
    monkeypatch.chdir(tmp_path)
    assert load_config([]).select == ("NN2",)


def test_explicit_config_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nselect = ["NN2"]\n')
    other = write(tmp_path / "elsewhere" / "custom.toml", '[tool.nnlint]\nselect = ["NN4"]\n')
    config = load_config([tmp_path], explicit=other)
    assert config.select == ("NN4",)
    assert config.path == other.resolve() and config.root == other.parent.resolve()


def test_explicit_config_without_table_gives_defaults(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nselect = ["NN2"]\n')
    other = write(tmp_path / "empty" / "pyproject.toml", '[project]\nname = "x"\n')
    config = load_config([tmp_path], explicit=other)
    assert config.select == ("ALL",) and config.path == other.resolve()


def test_explicit_config_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        load_config([tmp_path], explicit=tmp_path / "missing.toml")


def test_explicit_config_must_parse(tmp_path):
    bad = write(tmp_path / "pyproject.toml", "[tool.nnlint\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: invalid TOML: .*line 1, column 13"):
        load_config([tmp_path], explicit=bad)


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nselect = ["NN2"\nignore = []\n')
    with pytest.raises(ConfigError) as caught:
        load_config([tmp_path])
    message = str(caught.value)
    assert str(tmp_path / "pyproject.toml") in message
    assert "invalid TOML" in message and "line 3, column 1" in message


# --- every key --------------------------------------------------------------------------------

FULL = """\
[tool.nnlint]
select = ["NN2", "dropout-before-batchnorm"]
ignore = ["NN205"]
extend-select = ["ALL"]
exclude = ["generated", "*_pb2.py"]
extend-exclude = ["legacy/"]
graph = "configured"
cache-dir = ".cache/nnlint"

[tool.nnlint.per-file-ignores]
"tests/*.py" = ["NN2", "nll-loss-without-log-softmax"]

[tool.nnlint.severity]
NN201 = "warning"
dropout-before-batchnorm = "info"

[[tool.nnlint.models]]
target = "models/resnet.py:ResNet18"
kwargs = { num_classes = 10, widths = [64, 128] }
input_shape = [2, 3, 32, 32]
task = "multiclass"
num_classes = 10
loss = "torch.nn.CrossEntropyLoss"

[[tool.nnlint.models]]
target = "mypkg.text:Encoder"

[[tool.nnlint.models.inputs]]
shape = [2, 16]
dtype = "int64"
low = 0
high = 1000

[[tool.nnlint.models.inputs]]
shape = [2, 16]
dtype = "bool"

[[tool.nnlint.models.inputs]]
shape = [2, 16, 8]
low = -1.5
high = 1.5
"""


def test_every_key(tmp_path):
    path = write(tmp_path / "pyproject.toml", FULL)
    config = load_config([tmp_path])
    assert config.path == path.resolve()
    assert config.select == ("NN2", "dropout-before-batchnorm")
    assert config.ignore == ("NN205",)
    assert config.extend_select == ("ALL",)
    assert config.exclude == ("generated", "*_pb2.py")
    assert config.extend_exclude == ("legacy/",)
    assert config.graph == "configured"
    assert config.cache_dir == ".cache/nnlint"
    assert config.per_file_ignores == {"tests/*.py": ("NN2", "nll-loss-without-log-softmax")}
    assert config.severity == {"NN201": Severity.WARNING, "NN401": Severity.INFO}
    assert all(isinstance(level, Severity) for level in config.severity.values())
    first, second = config.models
    assert first == ModelSpec(
        target="models/resnet.py:ResNet18",
        kwargs={"num_classes": 10, "widths": [64, 128]},
        input_shape=(2, 3, 32, 32),
        task="multiclass",
        num_classes=10,
        loss="torch.nn.CrossEntropyLoss",
    )
    assert isinstance(first.kwargs, dict)
    assert second.target == "mypkg.text:Encoder" and second.input_shape is None
    assert second.inputs == (
        InputSpec(shape=(2, 16), dtype="int64", low=0, high=1000),
        InputSpec(shape=(2, 16), dtype="bool"),
        InputSpec(shape=(2, 16, 8), dtype="float32", low=-1.5, high=1.5),
    )


def test_lists_become_tuples(tmp_path):
    write(tmp_path / "pyproject.toml", FULL)
    config = load_config([tmp_path])
    for value in (config.select, config.exclude, config.models, config.models[0].input_shape, config.models[1].inputs):
        assert isinstance(value, tuple)
    assert isinstance(config.per_file_ignores["tests/*.py"], tuple)


def test_extend_exclude_keeps_default(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.nnlint]\nextend-exclude = ["gen"]\n')
    config = load_config([tmp_path])
    assert config.exclude == DEFAULT_EXCLUDE and config.extend_exclude == ("gen",)


def test_empty_table_gives_defaults_with_path(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.nnlint]\n")
    config = load_config([tmp_path])
    assert config == Config(path=path.resolve(), root=tmp_path.resolve())


def test_parse_table_is_pure():
    source = Path("somewhere/pyproject.toml")
    config = parse_table({"select": ["NN2"], "severity": {"softmax-before-cross-entropy": "error"}}, source)
    assert config.path == source and config.root == Path("somewhere")
    assert config.severity == {"NN201": Severity.ERROR}
    with pytest.raises(ConfigError, match=r"^somewhere/pyproject.toml: unknown key `tool.nnlint.nope`"):
        parse_table({"nope": 1}, source)


@pytest.mark.parametrize("target", ["model.py:Net", "a/b/model.py:Outer.Net", "pkg.mod:Net", "pkg:_Net2"])
def test_good_targets(tmp_path, target):
    write(tmp_path / "pyproject.toml", f'[[tool.nnlint.models]]\ntarget = "{target}"\n')
    assert load_config([tmp_path]).models[0].target == target


# --- errors -----------------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean(tmp_path):
    message = config_error(tmp_path, 'selct = ["NN2"]\n')
    assert "unknown key `tool.nnlint.selct`" in message
    assert "allowed keys: select, ignore, extend-select" in message
    assert "did you mean `select`?" in message


def test_unknown_model_key_with_did_you_mean(tmp_path):
    message = config_error(tmp_path, '[[tool.nnlint.models]]\ntarget = "m.py:Net"\ninput-shape = [1, 3]\n')
    assert "unknown key `tool.nnlint.models[0].input-shape`" in message
    assert "did you mean `input_shape`?" in message


def test_unknown_key_without_close_match(tmp_path):
    message = config_error(tmp_path, "zzzz = 1\n")
    assert "unknown key `tool.nnlint.zzzz`" in message and "did you mean" not in message


def test_nnlint_must_be_a_table(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool]\nnnlint = "yes"\n')
    with pytest.raises(ConfigError, match=r"`tool.nnlint` must be a table, got \"yes\" \(string\)"):
        load_config([tmp_path])


@pytest.mark.parametrize(
    "body, key, allowed",
    [
        ('select = "NN2"\n', "tool.nnlint.select", "must be an array of rule codes"),
        ("ignore = [201]\n", "tool.nnlint.ignore[0]", "must be a string, got 201 (integer)"),
        ("extend-select = true\n", "tool.nnlint.extend-select", "got true (boolean)"),
        ('exclude = "build"\n', "tool.nnlint.exclude", "must be an array of glob patterns"),
        ("extend-exclude = [1]\n", "tool.nnlint.extend-exclude[0]", "must be a string"),
        ('per-file-ignores = ["x"]\n', "tool.nnlint.per-file-ignores", "must be a table, got an array"),
        ('per-file-ignores = { "t/*.py" = "NN2" }\n', 'tool.nnlint.per-file-ignores."t/*.py"', "must be an array"),
        ('severity = "warning"\n', "tool.nnlint.severity", "must be a table"),
        ("cache-dir = 3\n", "tool.nnlint.cache-dir", "must be a string"),
        ('models = { target = "m.py:Net" }\n', "tool.nnlint.models", "must be an array of tables"),
        ("graph = true\n", "tool.nnlint.graph", 'one of "auto", "configured", "off"'),
    ],
)
def test_wrong_types(tmp_path, body, key, allowed):
    message = config_error(tmp_path, body)
    assert f"`{key}`" in message and allowed in message


@pytest.mark.parametrize(
    "body, key",
    [
        ('select = ["NN999"]\n', "tool.nnlint.select[0]"),
        ('ignore = ["NN201", "softmax-before-crossentropy"]\n', "tool.nnlint.ignore[1]"),
        ('extend-select = ["XX"]\n', "tool.nnlint.extend-select[0]"),
        ('[tool.nnlint.per-file-ignores]\n"tests/*" = ["NN9"]\n', 'tool.nnlint.per-file-ignores."tests/*"[0]'),
        ('[tool.nnlint.severity]\nNN999 = "warning"\n', "tool.nnlint.severity.NN999"),
        ('[tool.nnlint.severity]\nNN2 = "warning"\n', "tool.nnlint.severity.NN2"),
    ],
)
def test_unknown_rules(tmp_path, body, key):
    message = config_error(tmp_path, body)
    assert f"`{key}`" in message and "is not a rule code" in message


def test_unknown_rule_did_you_mean(tmp_path):
    message = config_error(tmp_path, 'ignore = ["softmax-before-crossentropy"]\n')
    assert "did you mean `softmax-before-cross-entropy`?" in message


def test_severity_given_twice(tmp_path):
    message = config_error(
        tmp_path, '[tool.nnlint.severity]\nNN201 = "warning"\nsoftmax-before-cross-entropy = "info"\n'
    )
    assert "`tool.nnlint.severity.softmax-before-cross-entropy`" in message and "given twice" in message


def test_bad_severity_value(tmp_path):
    message = config_error(tmp_path, '[tool.nnlint.severity]\nNN201 = "fatal"\n')
    assert '`tool.nnlint.severity.NN201` must be one of "error", "warning", "info", got "fatal" (string)' in message


def test_bad_graph_value(tmp_path):
    message = config_error(tmp_path, 'graph = "on"\n')
    assert '`tool.nnlint.graph` must be one of "auto", "configured", "off", got "on"' in message


def model_error(tmp_path: Path, body: str) -> str:
    """The ConfigError message for one [[tool.nnlint.models]] entry (after a valid first one)."""
    return config_error(tmp_path, '[[tool.nnlint.models]]\ntarget = "ok.py:Net"\n[[tool.nnlint.models]]\n' + body)


@pytest.mark.parametrize(
    "target", ["model.py", "model.py:", ":Net", "a:b:Net", "m.py:1Net", "m.py:Net.", "m.py:Net-2", " :Net"]
)
def test_bad_target_shape(tmp_path, target):
    message = model_error(tmp_path, f'target = "{target}"\n')
    assert "`tool.nnlint.models[1].target` must be a string like" in message


def test_target_required(tmp_path):
    message = model_error(tmp_path, "input_shape = [1, 3]\n")
    assert "missing required key `tool.nnlint.models[1].target`" in message


def test_target_must_be_a_string(tmp_path):
    assert "`tool.nnlint.models[1].target` must be a string" in model_error(tmp_path, "target = 3\n")


@pytest.mark.parametrize(
    "shape, key, got",
    [
        ("[1, 0, 3]", "input_shape[1]", "got 0 (integer)"),
        ("[-2]", "input_shape[0]", "got -2 (integer)"),
        ("[1, true]", "input_shape[1]", "got true (boolean)"),
        ("[1.5]", "input_shape[0]", "got 1.5 (float)"),
        ("[]", "input_shape", "got an empty array"),
        ('"1,3"', "input_shape", "must be a non-empty array of positive integers"),
    ],
)
def test_bad_input_shape(tmp_path, shape, key, got):
    message = model_error(tmp_path, f'target = "m.py:Net"\ninput_shape = {shape}\n')
    assert f"`tool.nnlint.models[1].{key}`" in message and got in message


def test_input_shape_and_inputs_are_exclusive(tmp_path):
    message = model_error(tmp_path, 'target = "m.py:Net"\ninput_shape = [1, 3]\ninputs = [{ shape = [1, 3] }]\n')
    assert "`tool.nnlint.models[1]` has both `input_shape` and `inputs`" in message


def test_input_needs_shape(tmp_path):
    message = model_error(tmp_path, 'target = "m.py:Net"\ninputs = [{ dtype = "int64" }]\n')
    assert "missing required key `tool.nnlint.models[1].inputs[0].shape`" in message


def test_inputs_must_be_non_empty(tmp_path):
    message = model_error(tmp_path, 'target = "m.py:Net"\ninputs = []\n')
    assert "`tool.nnlint.models[1].inputs` must be a non-empty array of tables" in message


def test_bad_dtype(tmp_path):
    message = model_error(tmp_path, 'target = "m.py:Net"\ninputs = [{ shape = [1], dtype = "float" }]\n')
    assert "`tool.nnlint.models[1].inputs[0].dtype` must be one of" in message
    assert '"float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"' in message


@pytest.mark.parametrize("low, high", [(1, 1), (2, 1.5)])
def test_low_must_be_below_high(tmp_path, low, high):
    message = model_error(tmp_path, f'target = "m.py:Net"\ninputs = [{{ shape = [1], low = {low}, high = {high} }}]\n')
    assert "`tool.nnlint.models[1].inputs[0]`: `low`" in message and "must be less than `high`" in message


@pytest.mark.parametrize(
    "value, got", [('"0"', 'got "0" (string)'), ("true", "got true (boolean)"), ("nan", "got nan (float)")]
)
def test_low_must_be_a_number(tmp_path, value, got):
    message = model_error(tmp_path, f'target = "m.py:Net"\ninputs = [{{ shape = [1], low = {value} }}]\n')
    assert "`tool.nnlint.models[1].inputs[0].low` must be a finite number" in message and got in message


def test_unknown_input_key(tmp_path):
    message = model_error(tmp_path, 'target = "m.py:Net"\ninputs = [{ shape = [1], dtpye = "int64" }]\n')
    assert "unknown key `tool.nnlint.models[1].inputs[0].dtpye`" in message and "did you mean `dtype`?" in message


@pytest.mark.parametrize(
    "body, key, allowed",
    [
        ('task = "classification"\n', "task", '"multiclass", "binary", "multilabel", "regression"'),
        ("num_classes = true\n", "num_classes", "an integer >= 1, got true (boolean)"),
        ("num_classes = 0\n", "num_classes", "an integer >= 1, got 0"),
        ("num_classes = 2.0\n", "num_classes", "an integer >= 1, got 2.0 (float)"),
        ('kwargs = "depth=18"\n', "kwargs", "must be a table"),
        ('loss = "torch.nn.CrossEntropyLoss()"\n', "loss", "a dotted name"),
        ("loss = 1\n", "loss", "must be a string"),
    ],
)
def test_bad_model_values(tmp_path, body, key, allowed):
    message = model_error(tmp_path, 'target = "m.py:Net"\n' + body)
    assert f"`tool.nnlint.models[1].{key}`" in message and allowed in message


# --- through the command line -----------------------------------------------------------------


def project(tmp_path: Path, monkeypatch, config: str) -> None:
    """A tmp project with one file that raises NN201, and the working folder set to it."""
    write(tmp_path / "pyproject.toml", config)
    write(tmp_path / "src" / "train.py", SOFTMAX_INTO_CE)
    monkeypatch.chdir(tmp_path)


def run_json(capsys, *args: str):
    """Exit code and findings of `nnlint --format json ARGS`."""
    code = main(["--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_cli_bad_config_is_a_usage_error(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, '[tool.nnlint]\nselct = ["NN2"]\n')
    assert main(["src"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("nnlint: error: ")
    assert "pyproject.toml" in captured.err and "tool.nnlint.selct" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_cli_toml_syntax_error(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, "[tool.nnlint]\nselect = [\n")
    assert main(["src"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnlint: error: ") and "invalid TOML" in err and "Traceback" not in err


def test_cli_missing_explicit_config(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, "[tool.nnlint]\n")
    assert main(["--config", "nope.toml", "src"]) == 2
    assert "nnlint: error: nope.toml: config file not found" in capsys.readouterr().err


def test_cli_without_config_reports_nn201(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, "[tool.nnlint]\n")
    code, findings = run_json(capsys, "src")
    assert code == 1
    assert [(f["code"], f["severity"]) for f in findings] == [("NN201", "error")]


def test_cli_ignore(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, '[tool.nnlint]\nignore = ["NN201"]\n')
    assert run_json(capsys, "src") == (0, [])


def test_cli_per_file_ignores(tmp_path, monkeypatch, capsys):
    project(
        tmp_path, monkeypatch, '[tool.nnlint.per-file-ignores]\n"src/train.py" = ["softmax-before-cross-entropy"]\n'
    )
    write(tmp_path / "src" / "other.py", SOFTMAX_INTO_CE)
    code, findings = run_json(capsys, "src")
    assert code == 1
    assert [(f["code"], f["path"]) for f in findings] == [("NN201", "src/other.py")]


def test_cli_severity_override(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, '[tool.nnlint.severity]\nNN201 = "warning"\n')
    code, findings = run_json(capsys, "src")
    assert code == 1
    assert [(f["code"], f["severity"]) for f in findings] == [("NN201", "warning")]


def test_cli_severity_info_does_not_fail(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, '[tool.nnlint.severity]\nsoftmax-before-cross-entropy = "info"\n')
    code, findings = run_json(capsys, "src")
    assert code == 0 and [f["severity"] for f in findings] == ["info"]


def test_cli_explicit_config(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, "[tool.nnlint]\n")
    write(tmp_path / "ci" / "pyproject.toml", '[tool.nnlint]\nignore = ["NN2"]\n')
    assert run_json(capsys, "--config", "ci/pyproject.toml", "src") == (0, [])


def test_cli_exclude(tmp_path, monkeypatch, capsys):
    project(tmp_path, monkeypatch, '[tool.nnlint]\nextend-exclude = ["src/train.py"]\n')
    assert run_json(capsys, ".") == (0, [])


# --- [tool.nnlint.options.NNxxx] ----------------------------------------------------------------


def test_rule_options(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        """\
        [tool.nnlint.options.NN313]
        warn_fraction = 0.8
        min_samples = 32
        [tool.nnlint.options.update-ratio-out-of-range]
        high = 1
        """,
    )
    config = load_config([tmp_path])
    assert config.options == {"NN313": {"warn_fraction": 0.8, "min_samples": 32}, "NN412": {"high": 1}}
    assert Config().options == {}


def test_rule_options_unknown_rule(tmp_path):
    message = config_error(tmp_path, "[tool.nnlint.options.NN999]\nwarn_fraction = 0.8\n")
    assert "`tool.nnlint.options.NN999`" in message and "is not a rule code" in message
    message = config_error(tmp_path, "[tool.nnlint.options.dead-rellu]\nwarn_fraction = 0.8\n")
    assert "did you mean `dead-relu`?" in message


def test_rule_options_of_a_rule_without_options(tmp_path):
    message = config_error(tmp_path, "[tool.nnlint.options.NN301]\nwarn_fraction = 0.8\n")
    assert "`tool.nnlint.options.NN301`" in message and "has no options" in message


def test_rule_options_unknown_option(tmp_path):
    message = config_error(tmp_path, "[tool.nnlint.options.NN313]\nwarn_fractoin = 0.8\n")
    assert "unknown key `tool.nnlint.options.NN313.warn_fractoin`" in message
    assert "min_samples, warn_fraction, error_fraction" in message and "did you mean `warn_fraction`?" in message


@pytest.mark.parametrize(
    "body, key, expected",
    [
        ('warn_fraction = "high"\n', "NN313.warn_fraction", 'must be a number (default 0.7), got "high" (string)'),
        ("warn_fraction = true\n", "NN313.warn_fraction", "must be a number (default 0.7), got true (boolean)"),
        ("min_samples = 6.5\n", "NN313.min_samples", "must be an integer (default 64), got 6.5 (float)"),
        ("warn_fraction = nan\n", "NN313.warn_fraction", "must be a number (default 0.7), got nan (float)"),
    ],
)
def test_rule_options_wrong_type(tmp_path, body, key, expected):
    message = config_error(tmp_path, "[tool.nnlint.options.NN313]\n" + body)
    assert f"`tool.nnlint.options.{key}` {expected}" in message


def test_rule_options_must_be_tables(tmp_path):
    message = config_error(tmp_path, "options = 3\n")
    assert "`tool.nnlint.options` must be a table" in message
    message = config_error(tmp_path, "[tool.nnlint.options]\nNN313 = 0.8\n")
    assert "`tool.nnlint.options.NN313` must be a table" in message


def test_rule_options_given_twice(tmp_path):
    message = config_error(tmp_path, "[tool.nnlint.options.NN313]\nmin_samples = 8\n[tool.nnlint.options.dead-relu]\n")
    assert "given twice" in message


def test_inputs_may_name_a_keyword_argument_and_skip_the_batch(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.nnlint.models]]\ntarget = "m.py:Net"\ninputs = [{ shape = [10, 16], batched = false }, '
        '{ name = "attention_mask", shape = [2, 16], dtype = "bool" }]\n',
        encoding="utf-8",
    )
    [model] = load_config([tmp_path]).models
    assert model.inputs == (
        InputSpec(shape=(10, 16), batched=False),
        InputSpec(shape=(2, 16), dtype="bool", name="attention_mask"),
    )


@pytest.mark.parametrize(
    "entry, got",
    [('name = "2x"', "must be the name of a forward argument"), ('batched = "no"', "must be a boolean")],
)
def test_bad_input_name_or_batched(tmp_path, entry, got):
    message = model_error(tmp_path, f'target = "m.py:Net"\ninputs = [{{ shape = [1], {entry} }}]\n')
    assert got in message
