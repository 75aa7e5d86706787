"""The graph pass: tiny broken and healthy models per rule, discovery, inputs, and isolation from bad models."""

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


def test_healthy_cnn_is_silent_at_an_inferred_size(tmp_path):
    source = """
    class LeNet(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, num_classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
    """
    assert _codes(source, tmp_path) == []  # works at 32x32: no false shape finding at 224


def test_shape_mismatch_with_configured_input_names_the_layer(tmp_path):
    (tmp_path / "net.py").write_text(
        HEADER
        + textwrap.dedent("""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3)
            self.fc = nn.Linear(400, 10)

        def forward(self, x):
            x = torch.flatten(self.conv(x), 1)
            return self.fc(x)
    """)
    )
    target = GraphTarget("net.py:Net", inputs=(InputSpec((4, 3, 8, 8)),))
    outcome = run_targets([target], tmp_path, ["NN301"])[0]
    [finding] = outcome.findings
    assert finding.code == "NN301" and finding.location.line == 15
    assert "`self.fc` (Linear) expects 400 input features" in finding.message
    assert "[2, 576]" in finding.message and "flatten" in finding.message


def test_unused_submodule_and_parameter(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.spare = nn.Linear(8, 4)
            self.gain = nn.Parameter(torch.ones(4))
            self.act = nn.ReLU()

        def forward(self, x):
            return self.fc(x)
    """
    assert _codes(source, tmp_path) == [
        ("NN303", _line(source, "self.spare =")),
        ("NN303", _line(source, "self.gain =")),
    ]


def test_used_parameter_and_frozen_module_are_silent(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.cls = nn.Parameter(torch.zeros(1, 4))
            self.frozen = nn.Linear(8, 4).requires_grad_(False)

        def forward(self, x):
            return self.fc(x) + self.cls
    """
    assert _codes(source, tmp_path) == []


def test_batch_mixing_view_and_healthy_flatten(tmp_path):
    bad = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(x).view(-1, 2)
    """
    good = bad.replace("self.fc(x).view(-1, 2)", "self.fc(x).view(x.size(0), -1)")
    assert _codes(bad, tmp_path) == [("NN309", _line(bad, ".view(-1, 2)"))]
    assert _codes(good, tmp_path) == []


def test_token_flatten_for_a_language_model_is_not_mixing(tmp_path):
    source = """
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 16)
            self.out = nn.Linear(16, 100)

        def forward(self, ids):
            return self.out(self.emb(ids)).view(-1, 100)
    """
    assert [code for code, _ in _codes(source, tmp_path)] == []


def test_view_instead_of_permute(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)

        def forward(self, x):
            y = self.conv(x)
            return y.view(y.shape[0], y.shape[2], y.shape[3], y.shape[1])
    """
    assert _codes(source, tmp_path) == [("NN310", _line(source, "y.view("))]


def test_discarded_result_but_not_inplace(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.norm = nn.LayerNorm(8)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            x = self.fc(x)
            self.norm(x)
            self.act(x)
            return x
    """
    assert _codes(source, tmp_path) == [("NN311", _line(source, "self.norm(x)"))]


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


def test_data_dependent_forward_is_not_runnable(tmp_path):
    source = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            if x.sum() > 0:
                x = -x
            return self.fc(x)
    """
    assert [code for code, _ in _codes(source, tmp_path)] == ["NN012"]


def test_input_unknown_is_info(tmp_path):
    source = """
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x):
            return x * self.scale
    """
    [finding] = graph_findings(HEADER + textwrap.dedent(source), tmp_path)
    assert finding.code == "NN014" and finding.severity.value == "info"


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


def test_import_error_points_at_the_failing_line(tmp_path):
    (tmp_path / "broken.py").write_text(
        "import torch.nn as nn\nimport not_a_module_anywhere\n\n\nclass Net(nn.Module):\n    pass\n"
    )
    [finding] = run_targets([GraphTarget("broken.py:Net")], tmp_path, ["NN010"])[0].findings
    assert finding.code == "NN010" and finding.location.line == 2 and "not_a_module_anywhere" in finding.message


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
# positive or a failure of nnlint before.


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


def test_input_inferred_through_a_functional_conv_with_standardized_weights(tmp_path):
    """timm's StdConv2d/ScaledStdConv2d (NFNet, ResNetV2) normalise their weight and call F.conv2d: the
    input comes from the weight's shape, not from a torch.nn layer."""
    source = """
    class StdConv(nn.Conv2d):
        def forward(self, x):
            w = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True, eps=1e-5)
            return F.conv2d(x, w.reshape_as(self.weight), self.bias, self.stride, self.padding, self.dilation, self.groups)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = StdConv(3, 8, 3)
            self.act = nn.ReLU()
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            return self.head(torch.flatten(F.adaptive_avg_pool2d(self.act(self.stem(x)), 1), 1))
    """
    assert _codes(source, tmp_path) == []


def test_declared_image_size_is_tried_first(tmp_path):
    """A ViT with a fixed position embedding runs at its `img_size` only (timm: also pretrained_cfg)."""
    source = """
    class FixedSizeViT(nn.Module):
        def __init__(self, img_size=40, patch=8, dim=32):
            super().__init__()
            self.img_size = img_size
            self.proj = nn.Conv2d(3, dim, patch, patch)
            self.pos = nn.Parameter(torch.zeros(1, (img_size // patch) ** 2, dim))
            self.head = nn.Linear(dim, 10)

        def forward(self, x):
            x = self.proj(x).flatten(2).transpose(1, 2) + self.pos
            return self.head(x.mean(1))
    """
    assert _codes(source, tmp_path) == []
    assert _codes(source.replace("self.img_size = img_size", "pass"), tmp_path)[0][0] == "NN301"


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


def test_result_passed_on_and_ignored_by_the_callee_is_not_discarded(tmp_path):
    """timm's DLA: `shortcut = self.project(bottom)` goes to a tree level that takes no shortcut. The
    value is dropped downstream, not thrown away at the call; a bare `self.norm(x)` still is."""
    source = """
    class Level(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x, shortcut=None):
            return self.fc(x)


    class Tree(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Identity()
            self.level = Level()
            self.norm = nn.LayerNorm(8)

        def forward(self, x):
            shortcut = self.project(x)
            self.norm(x)
            return self.level(x, shortcut)
    """
    assert _codes(source, tmp_path) == [("NN311", _line(source, "self.norm(x)"))]


def test_space_to_depth_stem_gets_rgb_images(tmp_path):
    """timm's TResNet folds 4x4 pixels into channels before its first conv (48 = 3 * 16 channels): the
    guess from that conv, float[B, 48, S, S], fails at the conv itself, so images are tried instead."""
    source = """
    class SpaceToDepthNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(48, 16, 3, padding=1)
            self.head = nn.Linear(16, 10)

        def forward(self, x):
            n, c, h, w = x.size()
            x = x.view(n, c, h // 4, 4, w // 4, 4).permute(0, 3, 5, 1, 2, 4).reshape(n, c * 16, h // 4, w // 4)
            return self.head(self.conv(x).mean((2, 3)))
    """
    assert _codes(source, tmp_path) == []


def test_linear_patch_embedding_gets_images_of_its_declared_size(tmp_path):
    """Gemma's and NaFlex ViTs cut images into patches and embed them with a Linear: the guess
    float[B, 48] fails on the way to it (`b, c, h, w = x.shape`), so images of the declared size are tried."""
    source = """
    class LinearPatchViT(nn.Module):
        def __init__(self, patch=4, dim=16):
            super().__init__()
            self.img_size = 32
            self.patch = patch
            self.proj = nn.Linear(3 * patch * patch, dim)
            self.pos = nn.Parameter(torch.zeros(1, (32 // patch) ** 2, dim))
            self.head = nn.Linear(dim, 10)

        def forward(self, x):
            b, c, h, w = x.shape
            p = self.patch
            x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)
            return self.head((self.proj(x) + self.pos).mean(1))
    """
    assert _codes(source, tmp_path) == []


def test_model_starting_with_unfold_gets_images(tmp_path):
    """timm's TNT starts with nn.Unfold, which does not tell the channels: a model with 2-d convolutions
    is tried on RGB images. (The first layer must not be found through `x.shape` arithmetic.)"""
    source = """
    class UnfoldNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.unfold = nn.Unfold(4, stride=4)
            self.proj = nn.Conv2d(3, 8, 4)
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            b = x.shape[0]
            patches = self.unfold(x).transpose(1, 2).reshape(-1, 3, 4, 4)
            return self.head(self.proj(patches).reshape(b, -1, 8).mean(1))
    """
    assert _codes(source, tmp_path) == []
    wrong = source.replace("self.head = nn.Linear(8, 10)", "self.head = nn.Linear(9, 10)")
    assert [code for code, _ in _codes(wrong, tmp_path)] == ["NN014"]  # a second guess that fails is no finding


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
