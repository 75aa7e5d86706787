"""The probe's engine: healthy models stay silent, the API leaves the model as it was, the report reads well, and
the CLI probes configured models in isolation and saves baselines. CPU only, seeds fixed. Each check's broken
models and near-misses are fixtures (fixtures/NN101, NN2xx, NN3xx, NN4xx, NN502), run by tests/test_fixtures.py."""

from __future__ import annotations

import importlib.util
import json
import textwrap

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import nnlint  # noqa: E402
from nnlint.cli import main  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _deterministic():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def probe(model, inputs=None, **kwargs):
    return nnlint.probe(model, torch.randn(16, 8) if inputs is None else inputs, **kwargs)


# --- healthy models stay silent -----------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, classes)
        )

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(self.drop(F.adaptive_avg_pool2d(x, 1).flatten(1)))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True)
        self.out = nn.Linear(32, 5)

    def forward(self, ids):
        hidden, _ = self.lstm(self.emb(ids))
        return self.out(hidden[:, -1])


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 32)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True), 2)
        self.head = nn.Linear(32, 4)

    def forward(self, ids):
        return self.head(self.enc(self.emb(ids)).mean(1))


class ZeroHead(nn.Module):
    """Zero-initialised output layer: earlier layers get zero gradients at step 0 only."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 32)
        self.head = nn.Linear(32, 3)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        return self.head(F.relu(self.body(x)))


@pytest.mark.parametrize(
    "make, inputs, task",
    [
        (MLP, None, "multiclass"),
        (CNN, lambda: torch.randn(16, 3, 16, 16), "multiclass"),
        (CNN, lambda: None, "multiclass"),  # input inferred from the first layer
        (Tagger, lambda: torch.randint(0, 100, (16, 12)), "multiclass"),
        (Encoder, lambda: torch.randint(0, 50, (16, 10)), "multiclass"),
        (ZeroHead, None, "multiclass"),
        (MLP, None, None),  # no task: surrogate loss, gradient flow only
        (lambda: MLP(1), None, "binary"),
        (lambda: MLP(2), None, "regression"),
    ],
    ids=["mlp", "cnn", "cnn-inferred", "lstm", "transformer", "zero-head", "surrogate", "binary", "regression"],
)
def test_healthy_models_are_silent(make, inputs, task):
    data = inputs() if callable(inputs) else torch.randn(16, 8)
    report = nnlint.probe(make(), data, task=task)
    assert report.ok and report.findings == (), report
    if task is not None:
        assert report.overfit["status"] == "passed", report


def test_healthy_model_with_your_optimizer_is_silent():
    model = MLP()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    before = [p.detach().clone() for p in model.parameters()]
    report = probe(model, task="multiclass", optimizer=optimizer)
    assert report.ok, report
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "the probe must restore the weights"
    assert not optimizer.state, "the probe must restore the optimizer"


# --- API, report, failures -----------------------------------------------------------------------


class Hidden(nn.Module):
    def __init__(self, activation="relu", bias=0.0, std=None, dead=0):
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.out = nn.Linear(32, 3)
        self.activation = activation
        if std is not None:
            nn.init.normal_(self.hidden.weight, std=std)
        with torch.no_grad():
            self.hidden.bias.fill_(bias)
            self.hidden.bias[:dead] = -100.0

    def forward(self, x):
        return self.out(getattr(torch, self.activation)(self.hidden(x)))


def test_report_is_a_unit_test_and_reads_well():
    report = probe(Hidden(bias=-100.0), task="multiclass")
    assert not report.ok
    text = str(report)
    assert "nnlint probe of Hidden on " in text and "dead/sat %" in text and "NN313 [dead-relu]" in text
    assert "hidden" in text and "100%" in text
    again = type(report).from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()


def test_gradient_flow_plot(tmp_path):
    from nnlint.probe.plot import PlotUnavailable, write

    report = probe(MLP(), task="multiclass")
    if importlib.util.find_spec("matplotlib") is None:
        with pytest.raises(PlotUnavailable, match="pip install matplotlib"):
            write(report, tmp_path / "flow.png")
        return
    write(report, tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:4] == b"\x89PNG"


def test_import_nnlint_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, nnlint; assert 'torch' not in sys.modules; print(callable(nnlint.probe))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


# --- the CLI: config, JSON, exit codes, isolation, baselines --------------------------------------

PROJECT = {
    "models.py": """
        import os

        import torch
        import torch.nn as nn


        class Healthy(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 32)
                self.fc2 = nn.Linear(32, 3)

            def forward(self, x):
                return self.fc2(torch.relu(self.fc1(x)))


        class Crashes(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 3)

            def forward(self, x):
                os._exit(3)


        class Cut(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(8, 16)
                self.head = nn.Linear(16, 3)

            def forward(self, x):
                return self.head(self.body(x).detach())
    """,
    "pyproject.toml": """
        [tool.nnlint]
        [[tool.nnlint.models]]
        target = "models.py:Healthy"
        task = "multiclass"
        [[tool.nnlint.models]]
        target = "models.py:Cut"
        input_shape = [16, 8]
        loss = "torch.nn.CrossEntropyLoss"
        [[tool.nnlint.models]]
        target = "models.py:Crashes"
    """,
}


def test_cli_probes_configured_models_in_isolation(tmp_path, monkeypatch, capsys):
    for name, text in PROJECT.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["probe", "--format", "json", "--save-baseline", "base.json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    by_code = {f["code"]: f for f in findings}
    assert set(by_code) == {"NN013", "NN312"}, findings
    assert by_code["NN013"]["path"] == "models.py" and "exit code 3" in by_code["NN013"]["message"]
    assert (
        by_code["NN312"]["path"] == "models.py"
        and by_code["NN312"]["line"] == 29
        and by_code["NN312"]["pass"] == "probe"
    )
    saved = json.loads((tmp_path / "base.json").read_text())["targets"]
    assert saved["models.py:Healthy"]["checks"]["NN101"] == "passed" and saved["models.py:Healthy"]["layers"]

    # a regression since the baseline: the healthy model's head now starts far from chance
    text = (
        (tmp_path / "models.py")
        .read_text()
        .replace(
            "self.fc2 = nn.Linear(32, 3)",
            "self.fc2 = nn.Linear(32, 3)\n        nn.init.normal_(self.fc2.weight, std=20.0)",
        )
    )
    (tmp_path / "models.py").write_text(text)
    assert (
        main(["probe", "models.py:Healthy", "--task", "multiclass", "--baseline", "base.json", "--format", "text"]) == 1
    )
    out = capsys.readouterr().out
    assert "nnlint probe of models.py:Healthy on " in out and "fc1" in out and "checks: NN101" in out
    assert "NN207 [initial-loss-far-from-chance]" in out and "NN502 [baseline-drift]" in out


def test_cli_usage_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["probe"]) == 2
    assert "no TARGET given" in capsys.readouterr().err


# --- rule options from pyproject.toml ---------------------------------------------------------------

PARTLY_DEAD = """
import torch
import torch.nn as nn


class PartlyDead(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.out = nn.Linear(32, 3)
        with torch.no_grad():
            self.hidden.bias.fill_(0.0)
            self.hidden.bias[:24] = -100.0

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))
"""


@pytest.mark.parametrize(
    "options, dead_relu", [("", True), ("[tool.nnlint.options.NN313]\nwarn_fraction = 0.8\n", False)]
)
def test_pyproject_option_changes_a_probe_threshold(tmp_path, options, dead_relu):
    """`[tool.nnlint.options.NN313]` reaches the probe the way `nnlint probe` sends it to its workers."""
    from nnlint.config import load_config
    from nnlint.probe.job import probe_target
    from nnlint.probe.setup import codes_for
    from nnlint.probe.targets import ProbeTarget

    (tmp_path / "models.py").write_text(PARTLY_DEAD, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.nnlint]\n[[tool.nnlint.models]]\ntarget = "models.py:PartlyDead"\ninput_shape = [16, 8]\n'
        'task = "multiclass"\n' + options,
        encoding="utf-8",
    )
    config = load_config([tmp_path])
    target = ProbeTarget.from_spec(config.models[0])
    job_options = json.loads(json.dumps({"seed": 0, "device": "cpu", "rules": config.options}))  # as a worker gets them
    report = probe_target(target, tmp_path, codes_for(["NN313"]), job_options)
    assert ("NN313" in {f.code for f in report.findings}) is dead_relu, report.findings


LSTM_CLASSIFIER = """
import torch.nn as nn


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 16, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, tokens):
        hidden, _ = self.lstm(self.embed(tokens))
        return self.head(hidden[:, -1])
"""


def _probe_configured(tmp_path, source: str, entry: str):
    from nnlint.config import load_config
    from nnlint.probe.job import probe_target
    from nnlint.probe.setup import codes_for
    from nnlint.probe.targets import ProbeTarget

    (tmp_path / "models.py").write_text(source, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.nnlint]\n[[tool.nnlint.models]]\n" + entry, encoding="utf-8")
    target = ProbeTarget.from_spec(load_config([tmp_path]).models[0])
    return probe_target(target, tmp_path, codes_for(None), {"seed": 0, "device": "cpu"})


def test_input_shape_on_an_embedding_first_model_gives_token_ids(tmp_path):
    """`--input-shape 4,12` names no dtype: the first layer (an Embedding) makes it int64 ids, as in the graph pass."""
    report = _probe_configured(
        tmp_path, LSTM_CLASSIFIER, 'target = "models.py:LSTMClassifier"\ninput_shape = [4, 12]\ntask = "multiclass"\n'
    )
    assert report.ok, report
    assert report.input.startswith("int64[4, 12]"), report.input


def test_a_check_that_could_not_run_is_not_run_never_passed():
    """The forward pass raises: no check measured anything, so none is reported as passed."""

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            raise RuntimeError("boom")

    report = nnlint.probe(Broken(), torch.randn(4, 8), task="multiclass")
    assert {f.code for f in report.findings} == {"NN013"}, report
    assert report.checks and all(status.startswith("not run") for status in report.checks.values()), report.checks


def test_overfit_targets_are_reachable():
    """Regression targets are other samples' outputs (never below a ReLU's 0); dense classes are one per sample."""
    from nnlint.probe.overfit_targets import reachable

    generator = torch.Generator().manual_seed(0)
    outputs = torch.relu(torch.randn(4, 3, generator=generator))
    targets = reachable("regression", outputs, generator)
    assert targets.min() >= 0
    zero = outputs == 0
    assert torch.equal(targets[zero], outputs[zero])  # a clamped output passes no gradient: it keeps its own value
    assert reachable("regression", torch.zeros(4, 1), generator) is None  # identical outputs: nothing to fit
    dense = reachable("multiclass", torch.randn(4, 3, 8, 8), generator)
    assert dense.shape == (4, 8, 8) and all(len(sample.unique()) == 1 for sample in dense)


def test_loss_floor_of_a_squashing_output():
    """A sigmoid output and targets outside [0, 1]: the lowest reachable MSE is known."""
    from nnlint.probe.overfit_targets import loss_floor, output_range

    output = torch.sigmoid(torch.randn(4, 1, requires_grad=True)).squeeze(1)
    bounds = output_range(output)
    assert bounds is not None and bounds[:2] == (0.0, 1.0)
    floor = loss_floor(nn.MSELoss(), bounds, torch.tensor([0.5, 2.0, 3.0, 0.0]))
    assert floor is not None and abs(floor[0] - (1 + 4) / 4) < 1e-6
    assert output_range(nn.Linear(3, 1)(torch.randn(4, 3))) is None


def test_list_options_accept_lists_of_numbers():
    """NN101's `lrs` is a list in pyproject.toml."""
    from nnlint.rules.nn101_cannot_overfit_batch import CannotOverfitBatch

    option = next(o for o in CannotOverfitBatch.options if o.name == "lrs")
    assert option.accepts([3e-4]) and option.accepts((1e-3, 1)) and not option.accepts([]) and not option.accepts(1e-3)
    assert not option.accepts(["fast"]) and not option.accepts([True])


class _MaskedClassifier(nn.Module):
    """A sequence classifier whose padding mask is a keyword argument, as in Hugging Face models."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, input_ids, attention_mask=None):
        hidden = self.embed(input_ids)
        if attention_mask is not None:
            weights = attention_mask.float().unsqueeze(-1)
            hidden = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        else:
            hidden = hidden.mean(1)
        return self.head(hidden)


def test_configured_keyword_inputs_reach_forward_by_name():
    """The graph pass's input contract: a spec with a `name` is passed by keyword (issue 15, item 4)."""
    from nnlint.config import InputSpec
    from nnlint.probe import engine
    from nnlint.probe.setup import make_setup

    seen = []
    model = _MaskedClassifier()
    model.register_forward_pre_hook(lambda module, args, kwargs: seen.append(sorted(kwargs)), with_kwargs=True)
    specs = (
        InputSpec((4, 7), dtype="int64", low=0, high=30),
        InputSpec((4, 7), dtype="bool", name="attention_mask"),
    )
    setup = make_setup(model, specs=specs, task="multiclass", num_classes=3, device="cpu", codes=frozenset({"NN101"}))
    args, kwargs = setup.batches.get(2)
    assert len(args) == 1 and args[0].dtype == torch.int64 and set(kwargs) == {"attention_mask"}
    report = engine.run(setup)
    assert ["attention_mask"] in seen
    assert not [f for f in report.findings if f.severity.value in ("warning", "error")], report
