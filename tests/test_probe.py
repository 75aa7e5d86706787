"""The probe: for every check a tiny broken model that triggers it and a healthy one that stays silent; the API,
the CLI, baselines and isolation. CPU only, seeds fixed."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import nnlint  # noqa: E402
from nnlint.cli import main  # noqa: E402
from nnlint.types import Severity  # noqa: E402

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


def codes(report):
    return sorted({f.code for f in report.findings})


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


# --- NN312 parameter-without-gradient -----------------------------------------------------------


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.head = nn.Linear(16, 3)
        self.spare = nn.Linear(8, 3)
        self.frozen = nn.Linear(8, 3).requires_grad_(False)

    def forward(self, x):
        with torch.no_grad():
            extra = self.frozen(x)
        return self.head(torch.relu(self.body(x)).detach()) + extra


class NoGrad(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        with torch.no_grad():
            h = self.body(x)
        return self.head(h)


def test_parameter_without_gradient_names_the_cut():
    report = probe(Detached(), task="multiclass")
    found = {f.message.split("`")[1]: f for f in report.findings if f.code == "NN312"}
    assert set(found) == {"body.weight", "spare.weight"}  # frozen layers are not checked
    assert ".detach()` on a tensor computed from it" in found["body.weight"].message
    assert "test_probe.py:" in found["body.weight"].message
    assert found["body.weight"].location.line == _line("self.body = nn.Linear(8, 16)", Detached)
    assert "never ran in forward" in found["spare.weight"].message
    assert (
        "only used while gradients are disabled"
        in [f.message for f in probe(NoGrad(), task="multiclass").findings if f.code == "NN312"][0]
    )


def test_zero_gradient_is_reported_only_when_it_stays_zero():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 16)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            return self.head(torch.relu(self.body(x)) * 0)

    report = probe(Masked(), task="multiclass")
    assert any(
        f.code == "NN312" and "exactly zero" in f.message and "body.weight" in f.message for f in report.findings
    ), report
    assert "NN312" not in codes(probe(ZeroHead(), task="multiclass"))


# --- NN313 dead-relu, NN314 saturated-activation -------------------------------------------------


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


def test_dead_relu_warns_above_half_and_errors_at_all():
    all_dead = [f for f in probe(Hidden(bias=-100.0), task="multiclass").findings if f.code == "NN313"]
    assert len(all_dead) == 1 and all_dead[0].severity is Severity.ERROR and "32 of 32 units" in all_dead[0].message
    assert "after `self.hidden` (Linear)" in all_dead[0].message
    most = [f for f in probe(Hidden(dead=24), task="multiclass").findings if f.code == "NN313"]
    assert len(most) == 1 and most[0].severity is Severity.WARNING and "24 of 32" in most[0].message
    assert "NN313" not in codes(probe(Hidden(dead=8), task="multiclass"))


def test_dead_relu_needs_64_samples_and_extends_a_small_batch():
    report = probe(Hidden(bias=-100.0), torch.randn(4, 8), task="multiclass")
    assert "NN313" in codes(report)  # 4 samples of yours + 60 drawn with their statistics


def test_noqa_silences_a_probe_finding():
    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(8, 32)
            self.out = nn.Linear(32, 3)
            nn.init.normal_(self.hidden.weight, std=50.0)

        def forward(self, x):
            return self.out(torch.sigmoid(self.hidden(x)))  # noqa: NN314 (a hard gate on purpose)

    assert "NN314" not in codes(probe(Gate(), task="multiclass"))


def test_saturated_activation():
    assert "NN314" in codes(probe(Hidden("tanh", std=50.0), task="multiclass"))
    assert "NN314" in codes(probe(Hidden("sigmoid", std=50.0), task="multiclass"))
    assert "NN314" not in codes(probe(Hidden("tanh"), task="multiclass"))


# --- NN315 vanishing-gradient, NN316 exploding-gradient ------------------------------------------


class Deep(nn.Module):
    def __init__(self, activation=torch.sigmoid, std=None, depth=12):
        super().__init__()
        self.inp = nn.Linear(8, 32)
        self.layers = nn.ModuleList(nn.Linear(32, 32) for _ in range(depth))
        self.out = nn.Linear(32, 3)
        self.activation = activation
        for layer in self.layers:
            if std is not None:
                nn.init.normal_(layer.weight, std=std)

    def forward(self, x):
        x = self.activation(self.inp(x))
        for layer in self.layers:
            x = self.activation(layer(x))
        return self.out(x)


def test_vanishing_gradient():
    report = probe(Deep(), task="multiclass")
    [finding] = [f for f in report.findings if f.code == "NN315"]
    assert "`inp.weight`" in finding.message and finding.location.line == _line("self.inp = nn.Linear(8, 32)", Deep)
    assert "NN315" not in codes(probe(Deep(torch.relu, depth=3), task="multiclass"))


def test_exploding_gradient():
    assert "NN316" in codes(probe(Deep(torch.relu, std=1.0, depth=6), task="multiclass"))
    assert "NN316" not in codes(probe(Deep(torch.relu, depth=6), task="multiclass"))


# --- NN317 non-finite-values ---------------------------------------------------------------------


class Log(nn.Module):
    def __init__(self, safe=False):
        super().__init__()
        self.out = nn.Linear(8, 3)
        self.safe = safe

    def forward(self, x):
        y = self.out(x)
        return torch.log(y.exp() + 1) if self.safe else torch.log(y)


class SqrtAtZero(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(x) + torch.sqrt(self.out.bias * 0).sum()


def test_non_finite_forward_names_the_operation():
    [finding] = [f for f in probe(Log(), task="multiclass").findings if f.code == "NN317"]
    assert "`torch.log` produced NaN/Inf from finite inputs" in finding.message
    assert finding.location.line == _line("return torch.log(y.exp() + 1)", Log)
    assert codes(probe(Log(safe=True), task="multiclass")) == []


def test_non_finite_backward_and_input():
    [finding] = [f for f in probe(SqrtAtZero(), task="multiclass").findings if f.code == "NN317"]
    assert "backward" in finding.message and finding.location.line == _line("torch.sqrt(self.out.bias * 0)", SqrtAtZero)
    bad_input = torch.randn(16, 8)
    bad_input[3, 2] = float("nan")
    [finding] = [f for f in probe(MLP(), bad_input, task="multiclass").findings if f.code == "NN317"]
    assert "input batch" in finding.message


# --- NN318 gradcheck-mismatch --------------------------------------------------------------------


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.save_for_backward(x)
        ctx.factor = factor
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.factor * grad * x, None


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -0.5 * grad


class UsesFunction(nn.Module):
    def __init__(self, function, *extra):
        super().__init__()
        self.inp = nn.Linear(8, 8)
        self.out = nn.Linear(8, 3)
        self.function, self.extra = function, extra

    def forward(self, x):
        return self.out(self.function.apply(self.inp(x), *self.extra))


def test_gradcheck_mismatch_error_warning_and_deliberate_gradients():
    [wrong] = [f for f in probe(UsesFunction(Square, 1.0), task="multiclass").findings if f.code == "NN318"]
    assert wrong.severity is Severity.ERROR and "`Square`" in wrong.message and "0.5×" in wrong.message
    assert wrong.location.line == _line("class Square", None)
    [close] = [f for f in probe(UsesFunction(Square, 1.998), task="multiclass").findings if f.code == "NN318"]
    assert close.severity is Severity.WARNING
    assert "NN318" not in codes(probe(UsesFunction(Square, 2.0), task="multiclass"))
    for deliberate in (RoundSTE, Reverse):
        report = probe(UsesFunction(deliberate), task="multiclass")
        assert "NN318" not in codes(report) and "not judged" in report.checks["NN318"]


# --- NN101 cannot-overfit-batch, NN207 initial-loss-far-from-chance, NN201 via the probe ----------


class Cosine(nn.Module):
    def __init__(self, scale=1.0):
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.classes = nn.Parameter(torch.randn(10, 32))
        self.scale = scale

    def forward(self, x):
        features = F.normalize(torch.relu(self.hidden(x)), dim=1)
        return self.scale * features @ F.normalize(self.classes, dim=1).t()


def test_cannot_overfit_batch_only_when_conclusive():
    report = probe(Cosine(), task="multiclass")
    assert "NN101" in codes(report) and report.overfit["status"] == "failed", report
    assert probe(Cosine(8.0), task="multiclass").overfit["status"] == "passed"
    slow = probe(nn.Linear(8, 3), task="multiclass", steps=20)  # still learning at the step limit: not a finding
    assert slow.overfit["status"] == "inconclusive" and "NN101" not in codes(slow)


def test_initial_loss_far_from_chance():
    hot = nn.Linear(8, 10)
    nn.init.normal_(hot.weight, std=10.0)
    [finding] = [f for f in probe(hot, task="multiclass").findings if f.code == "NN207"]
    assert "ln(10) = 2.303" in finding.message
    assert "NN207" not in codes(probe(nn.Linear(8, 10), task="multiclass"))
    # binary with real targets: the expected level is the entropy of the label prior
    targets = (torch.arange(16) < 1).float().unsqueeze(1)
    [prior] = [f for f in probe(nn.Linear(8, 1), targets=targets, task="binary").findings if f.code == "NN207"]
    assert "prior" in prior.message


def test_softmax_before_cross_entropy_seen_by_the_probe():
    class Softmaxed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    [finding] = probe(Softmaxed(), task="multiclass").findings
    assert finding.code == "NN201" and finding.pass_.value == "probe" and "1.4612" in finding.message
    assert finding.location.line == _line("return F.softmax(self.fc(x), dim=1)", None)


# --- NN309 batch independence, NN401 variance shift ----------------------------------------------


def test_batch_mixing_names_the_operation():
    class Centered(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(x - x.mean(0))

    [finding] = [f for f in probe(Centered(), task="multiclass").findings if f.code == "NN309"]
    assert "`.sub()`" in finding.message and finding.location.line == _line("return self.fc(x - x.mean(0))", None)
    assert "NN309" not in codes(probe(CNN(), torch.randn(16, 3, 8, 8), task="multiclass"))  # BatchNorm is fine


def test_dropout_before_batchnorm_variance_shift():
    def make(order):
        layers = {"drop": nn.Dropout(0.5), "bn": nn.BatchNorm1d(32)}
        return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), *(layers[name] for name in order), nn.Linear(32, 3))

    [finding] = [f for f in probe(make(["drop", "bn"]), task="multiclass").findings if f.code == "NN401"]
    assert "dropout(p=0.5)" in finding.message and "`self.3`" in finding.message
    assert "NN401" not in codes(probe(make(["bn", "drop"]), task="multiclass"))


# --- your optimizer: NN411 parameter-not-updated, NN412 update ratio, NN208 regularization -------


def test_parameter_missing_from_optimizer_and_lr_zero():
    model = MLP()
    report = probe(model, task="multiclass", optimizer=torch.optim.Adam(model.net[0].parameters(), lr=1e-3))
    missing = [f for f in report.findings if f.code == "NN411"]
    assert len(missing) == 2 and all("none of your optimizer's param groups" in f.message for f in missing)
    model = MLP()
    groups = [{"params": model.net[0].parameters(), "lr": 0.0}, {"params": list(model.net[3:].parameters())}]
    frozen = [
        f
        for f in probe(model, task="multiclass", optimizer=torch.optim.SGD(groups, lr=0.01)).findings
        if f.code == "NN411"
    ]
    assert frozen and "lr = 0" in frozen[0].message


def test_update_ratio_with_your_optimizer():
    model = MLP()
    report = probe(model, task="multiclass", optimizer=torch.optim.SGD(model.parameters(), lr=1e-7))
    assert "NN412" in codes(report) and "barely move" in report.findings[0].message
    model = MLP()
    assert "NN412" not in codes(
        probe(model, task="multiclass", optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    )
    assert probe(MLP(), task="multiclass").checks["NN412"].startswith("skipped")


def test_regularization_dominates_loss():
    model = MLP()
    heavy = torch.optim.SGD(model.parameters(), lr=1e-3, weight_decay=10.0)
    assert "NN208" in codes(probe(model, task="multiclass", optimizer=heavy))

    def parts(output, target):
        return {
            "data": F.cross_entropy(output, target),
            "l2_penalty": 100 * sum(p.pow(2).sum() for p in model.parameters()),
        }

    assert "NN208" in codes(probe(model, task="multiclass", loss_fn=parts))
    light = torch.optim.SGD(model.parameters(), lr=1e-3, weight_decay=1e-4)
    assert "NN208" not in codes(probe(model, task="multiclass", optimizer=light))


# --- API, report, failures -----------------------------------------------------------------------


def test_report_is_a_unit_test_and_reads_well():
    report = probe(Hidden(bias=-100.0), task="multiclass")
    assert not report.ok
    text = str(report)
    assert "nnlint probe of Hidden on " in text and "dead/sat %" in text and "NN313 [dead-relu]" in text
    assert "hidden" in text and "100%" in text
    again = type(report).from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()


def test_forward_errors_and_wrong_inputs_are_findings():
    class Raises(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            raise ValueError("boom")

    [finding] = probe(Raises(), task="multiclass").findings
    assert finding.code == "NN013" and "ValueError: boom" in finding.message
    [finding] = nnlint.probe(Raises(), task="multiclass").findings  # inferred input: the first layer fixes it
    assert finding.code == "NN013" and finding.location.line == _line('raise ValueError("boom")', None)
    [finding] = probe(MLP(), torch.randn(16, 5), task="multiclass").findings
    assert finding.code == "NN013" and "mat1 and mat2" in finding.message


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


def test_baseline_drift(tmp_path):
    path = tmp_path / "baseline.json"
    torch.manual_seed(1)
    probe(MLP(), task="multiclass").save_baseline(path)
    torch.manual_seed(1)
    assert probe(MLP(), task="multiclass", baseline=path).ok
    torch.manual_seed(1)
    changed = MLP()
    nn.init.normal_(changed.net[5].weight, std=10.0)
    report = probe(changed, task="multiclass", baseline=path)
    drift = [f.message for f in report.findings if f.code == "NN502"]
    assert any("NN207 passed in the baseline and fails now" in m for m in drift)
    assert any("initial loss moved" in m for m in drift)
    assert any("gradient norm of `net.0`" in m for m in drift)


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
            "self.fc2 = nn.Linear(32, 3)\n        nn.init.normal_(self.fc2.weight, std=5.0)",
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


def _line(text: str, cls) -> int:
    """1-based line of `text` in this file (within `cls` when given)."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    start = 0
    if cls is not None:
        start = next(i for i, line in enumerate(lines) if line.startswith(f"class {cls.__name__}("))
    return next(i + 1 for i, line in enumerate(lines) if i >= start and text in line)


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
    assert ("NN313" in codes(report)) is dead_relu, report.findings
