"""The graph pass's engine: the hooks fallback, targets, isolation from bad models, time and memory limits, the CLI
and config, and a failing rule. Each rule's broken models and near-misses are fixtures (fixtures/NN01x, NN301,
NN303, NN309-NN311), run by tests/test_fixtures.py."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from graph_support import graph_findings  # noqa: E402

from nnlint.cli import main  # noqa: E402
from nnlint.config import Config, InputSpec  # noqa: E402
from nnlint.graph.isolated import run_targets  # noqa: E402
from nnlint.graph.targets import GraphTarget  # noqa: E402
from nnlint.isolation.supervise import Limits  # noqa: E402
from nnlint.runner import GraphOptions, run  # noqa: E402

pytestmark = pytest.mark.torch

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"


def _codes(source: str, tmp_path: Path):
    return sorted((f.code, f.location.line) for f in graph_findings(HEADER + textwrap.dedent(source), tmp_path))


def _line(source: str, text: str) -> int:
    """1-based line of `text` in HEADER + source."""
    lines = (HEADER + textwrap.dedent(source)).splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_untraceable_model_falls_back_to_hooks(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.spare = nn.Linear(8, 4)

        def forward(self, x):
            for layer in [self.fc][: len(x.shape) - 1]:
                x = layer(x)
            return x
    """
    assert _codes(source, tmp_path) == [("NN303", _line(source, "self.spare ="))]


def test_a_failing_rule_is_an_internal_error_and_the_others_still_report(tmp_path, monkeypatch):
    """NN003 has no fixture (fixtures/NN003/README.md): a rule is broken on purpose to see the engine report it."""
    from nnlint.rules.nn310_view_instead_of_permute import ViewInsteadOfPermute

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ViewInsteadOfPermute, "check_graph", broken)
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.spare = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(x)
    """
    findings = graph_findings(HEADER + textwrap.dedent(source), tmp_path)
    assert sorted(f.code for f in findings) == ["NN003", "NN303"]
    [internal] = [f for f in findings if f.code == "NN003"]
    assert "NN310 (view-instead-of-permute)" in internal.message and "RuntimeError: boom" in internal.message
    assert "bug in nnlint" in internal.message and internal.location.line == _line(source, "class Net")


def test_factory_target_with_example_inputs(tmp_path):
    (tmp_path / "factory.py").write_text(
        HEADER
        + textwrap.dedent("""
    def make():
        model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1), nn.BatchNorm1d(8))
        return model, torch.empty(4, 8)
    """)
    )
    outcome = run_targets([GraphTarget("factory.py:make")], tmp_path, ["NN301", "NN303"])[0]
    assert outcome.findings == [] and outcome.method == "fx"


ISOLATION = HEADER + textwrap.dedent("""
import os, sys, threading, time

MODE = os.environ.get("NNLINT_TEST_MODE", "")


class Exits(nn.Module):
    def __init__(self):
        super().__init__()
        sys.exit(3)


class HardExit(nn.Module):
    def __init__(self):
        super().__init__()
        os._exit(7)


class Hangs(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            time.sleep(0.1)


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        sys.stdout.write("x" * 5_000_000)
        sys.stderr.write("y" * 5_000_000)
        threading.Thread(target=lambda: time.sleep(3600)).start()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


class Raises(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("no weights file")


class Healthy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
""")


def test_misbehaving_models_are_reported_and_the_others_checked(tmp_path):
    (tmp_path / "bad.py").write_text(ISOLATION)
    names = ["Exits", "HardExit", "Hangs", "Noisy", "Raises", "Healthy"]
    targets = [GraphTarget(f"bad.py:{name}") for name in names]
    outcomes = run_targets(targets, tmp_path, ["NN011", "NN013", "NN301", "NN303"], Limits(seconds=5))
    codes = {name: [f.code for f in outcome.findings] for name, outcome in zip(names, outcomes)}
    assert codes == {
        "Exits": ["NN011"],
        "HardExit": ["NN013"],
        "Hangs": ["NN013"],
        "Noisy": [],
        "Raises": ["NN011"],
        "Healthy": [],
    }
    assert "sys.exit(3)" in outcomes[0].findings[0].message
    assert "exit code 7" in outcomes[1].findings[0].message
    assert "did not finish within 5 s" in outcomes[2].findings[0].message
    assert "no weights file" in outcomes[4].findings[0].message
    assert (
        outcomes[4].findings[0].location.line
        == ISOLATION.splitlines().index('        raise RuntimeError("no weights file")') + 1
    )


IMPORT_TIME = {
    "exits": "import sys\nsys.exit(4)\n",
    "hard_exit": "import os\nos._exit(9)\n",
    "hangs": "while True:\n    pass\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "threads": "import threading, time\nthreading.Thread(target=lambda: time.sleep(3600)).start()\n",
}


def test_misbehaving_imports_are_reported_and_the_others_checked(tmp_path):
    """What a model file does at import (before any model exists) is survived the same way."""
    net = (
        "\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    for name, body in {**IMPORT_TIME, "healthy": ""}.items():
        (tmp_path / f"{name}.py").write_text(HEADER + body + net)
    names = [*IMPORT_TIME, "healthy"]
    outcomes = run_targets(
        [GraphTarget(f"{name}.py:Net") for name in names], tmp_path, ["NN010", "NN013", "NN301"], Limits(seconds=5)
    )
    codes = {name: [f.code for f in outcome.findings] for name, outcome in zip(names, outcomes)}
    assert codes == {
        "exits": ["NN010"],
        "hard_exit": ["NN013"],
        "hangs": ["NN013"],
        "segfault": ["NN013"],
        "threads": [],
        "healthy": [],
    }
    messages = {name: outcome.findings[0].message for name, outcome in zip(names, outcomes) if outcome.findings}
    assert "sys.exit(4)" in messages["exits"] and "exit code 9" in messages["hard_exit"]
    assert "did not finish within 5 s" in messages["hangs"]
    assert "SIGSEGV" in messages["segfault"] or "signal" in messages["segfault"], messages["segfault"]


def test_memory_cap_stops_a_runaway_model(tmp_path):
    (tmp_path / "hog.py").write_text(
        HEADER
        + "class Hog(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.junk = bytearray(8 * 1024**3)\n"
    )
    [finding] = run_targets(
        [GraphTarget("hog.py:Hog")], tmp_path, ["NN011", "NN013"], Limits(seconds=60, memory=3 * 1024**3)
    )[0].findings
    assert finding.code in ("NN011", "NN013") and ("MemoryError" in finding.message or "memory" in finding.message)


def test_zero_config_run_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(
        HEADER
        + textwrap.dedent("""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.norm = nn.LayerNorm(4)

        def forward(self, x):
            x = self.fc(x)
            self.norm(x)
            return x
    """)
    )
    assert main(["model.py", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["pass"], f["path"], f["line"]) for f in findings] == [("NN311", "graph", "model.py", 15)]
    assert main(["model.py", "--no-graph", "--format", "json"]) == 0
    (tmp_path / "model.py").write_text(
        (tmp_path / "model.py").read_text().replace("self.norm(x)\n", "self.norm(x)  # noqa: NN311\n")
    )
    assert main(["model.py", "--format", "json"]) == 0


def test_cli_model_option_and_graph_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(
        HEADER
        + "class Net(nn.Module):\n    def __init__(self, width=8):\n        super().__init__()\n        self.fc = nn.Linear(width, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    )
    assert main(["graph", "m.py:Net", "--input-shape", "2,16", "--kwargs", '{"width": 16}']) == 0
    out = capsys.readouterr().out
    assert "fc" in out and "[2, 4]" in out and "68" in out
    assert main(["m.py", "--model", "m.py:Net", "--input-shape", "2,3", "--format", "text"]) == 1
    assert "NN301" in capsys.readouterr().out
    assert main(["m.py", "--input-shape", "2,3"]) == 2


def test_graph_config_off_and_configured(tmp_path):
    (tmp_path / "m.py").write_text(
        HEADER
        + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 4)\n        self.spare = nn.Linear(8, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
    )
    assert run([tmp_path / "m.py"], Config(graph="off"), tmp_path).findings == ()
    assert run([tmp_path / "m.py"], Config(graph="configured"), tmp_path).findings == ()
    found = run([tmp_path / "m.py"], Config(), tmp_path, graph=GraphOptions(limits=Limits(seconds=60))).findings
    assert [(f.code, f.location.line) for f in found] == [("NN303", 10)]


# Patterns of real, correct models (bench/graph_corpus.py runs torchvision and timm): each was a false
# positive or a failure of nnlint before. Those about inferring inputs are fixtures (fixtures/NN014/ok_*).


def test_init_with_real_tensor_arithmetic_builds_with_weights_on_meta(tmp_path):
    """torchvision's RegNet computes its widths with tensors and `.tolist()`, which fails on meta: the
    model is built on the CPU, but every parameter goes to meta as it is registered (no 2.6 GB of weights)."""
    from nnlint.graph.loading import build

    source = """
    class Widths(nn.Module):
        def __init__(self):
            super().__init__()
            widths = (torch.arange(3) * 8 + 8).tolist()
            self.fc = nn.Linear(widths[-1], 4)
            nn.init.kaiming_normal_(self.fc.weight)
            self.weight_device = self.fc.weight.device.type

        def forward(self, x):
            return self.fc(x)
    """
    assert _codes(source, tmp_path) == []
    namespace: dict = {}
    exec(HEADER + textwrap.dedent(source), namespace)
    model, _ = build(namespace["Widths"], {})
    assert model.weight_device == "meta" and model.fc.weight.is_meta


def test_worker_events_split_across_writes_are_read_whole(tmp_path):
    """A large event (many findings) reaches the parent in several writes: it must wait for the newline."""
    from nnlint.isolation.protocol import EventReader

    path = tmp_path / "results.jsonl"
    path.write_text('{"event": "ready"}\n{"event": "done", "find', encoding="utf-8")
    with open(path, encoding="utf-8") as handle:
        events = EventReader(handle)
        assert events.read() == [{"event": "ready"}]
        with open(path, "a", encoding="utf-8") as out:
            out.write('ings": []}\n')
        assert events.read() == [{"event": "done", "findings": []}]
        assert events.read() == []


def test_recurrent_layers_are_checked_from_their_sizes(tmp_path):
    """LSTM meta kernels step through time in Python (seconds per layer at length 512): nnlint computes
    their output shapes from the layer's sizes, after the layer's own argument checks."""
    (tmp_path / "tagger.py").write_text(
        HEADER
        + textwrap.dedent("""
    class Tagger(nn.Module):
        def __init__(self, out_features=64):
            super().__init__()
            self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True, bidirectional=True)
            self.out = nn.Linear(out_features, 5)

        def forward(self, x):
            y, (h, c) = self.lstm(x)
            return self.out(y) + h[-1].sum() + c[-1].sum()
    """),
        encoding="utf-8",
    )
    from nnlint import registry
    from nnlint.graph.engine import check_target
    from nnlint.types import Pass

    rules = [rule for rule in registry.BY_CODE.values() if Pass.GRAPH in rule.passes]
    inputs = (InputSpec((4, 512, 16)),)
    healthy = check_target(GraphTarget("tagger.py:Tagger", inputs=inputs), tmp_path, rules)
    assert healthy.findings == [] and healthy.method == "fx"
    broken = check_target(GraphTarget("tagger.py:Tagger", {"out_features": 32}, inputs), tmp_path, rules)
    [finding] = broken.findings
    assert (
        finding.code == "NN301" and "expects 32 input features" in finding.message and "[2, 512, 64]" in finding.message
    )
    wrong_input = check_target(GraphTarget("tagger.py:Tagger", inputs=(InputSpec((4, 512, 8)),)), tmp_path, rules)
    [finding] = wrong_input.findings
    assert finding.code == "NN301" and "`self.lstm` (LSTM) expects 16 input features" in finding.message
    assert "from the input `x`, for" in finding.message


def test_attributes_cached_during_a_failed_trace_are_undone(tmp_path):
    """A model that caches a size on its first call keeps an fx proxy from the trace attempt; the
    eager run that follows (hooks) must see the attribute as built, not the proxy."""
    source = """
    class CachesWidth(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.width = None

        def forward(self, x):
            if self.width is None:
                self.width = x.shape[-1]
            if x.shape[-1] != self.width:
                raise ValueError("width changed")
            return self.fc(x)
    """
    assert _codes(source, tmp_path) == []
