"""The wiring concepts on the traced graph (NN206, NN303, NN401, NN402): one finding per place across passes, the
near-misses the fixtures cannot show alone, and layers laid out by installed packages. The firing cases and the
`ok_*` near-misses are fixtures (fixtures/NN206, NN303, NN401, NN402)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from graph_support import graph_findings, run_in_process  # noqa: E402

from nnlint.config import Config  # noqa: E402
from nnlint.types import Pass  # noqa: E402

pytestmark = pytest.mark.torch

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"


def _source(body: str) -> str:
    return HEADER + textwrap.dedent(body)


def _line(source: str, text: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)


def test_a_pair_both_passes_see_is_reported_once(tmp_path):
    """The static pass and the graph pass both find the dropout and the bias in the `nn.Sequential`, and the relu on
    the output; the runner keeps one finding of each code at each place (the static one, which may carry a fix)."""
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Linear(8, 16),
                    nn.BatchNorm1d(16),
                    nn.Dropout(0.5),
                    nn.BatchNorm1d(16),
                    nn.Linear(16, 4),
                    nn.ReLU(),
                )

            def forward(self, x):
                return self.body(x)


        model = Net()


        def train_step(x, y):
            return F.cross_entropy(model(x), y)
        """
    )
    graph = graph_findings(source, tmp_path, "net.py")
    places = {(f.code, f.location.line) for f in graph}
    expected = {
        ("NN402", _line(source, "nn.Linear(8, 16)")),
        ("NN401", _line(source, "nn.Dropout(0.5)")),
        ("NN206", _line(source, "nn.ReLU()")),
    }
    assert expected <= places  # the graph pass sees all three on its own
    result = run_in_process([tmp_path / "net.py"], Config(), cwd=tmp_path)
    wiring = [f for f in result.findings if f.code in ("NN206", "NN401", "NN402")]
    assert sorted((f.code, f.location.line) for f in wiring) == sorted(expected)
    assert all(f.pass_ is Pass.STATIC for f in wiring)


def test_dropout_that_drops_nothing_feeds_batchnorm_silently(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, rates=(0.0, 0.3)):
                super().__init__()
                self.rates = rates
                self.norms = nn.ModuleList(nn.BatchNorm1d(8) for _ in rates)

            def forward(self, x):
                x = self.norms[0](F.dropout(x, self.rates[0], self.training))
                return self.norms[1](F.dropout(x, self.rates[1], training=False))
        """
    )
    assert [f.code for f in graph_findings(source, tmp_path)] == []


def test_functional_dropout_through_a_flatten_feeds_batchnorm(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, p=0.25):
                super().__init__()
                self.p = p
                self.norm = nn.BatchNorm1d(32)

            def forward(self, x):
                x = F.dropout(x, self.p, self.training)
                return self.norm(torch.flatten(x, 1))
        """
    )
    [finding] = graph_findings(source, tmp_path)
    assert finding.code == "NN401" and finding.location.line == _line(source, "return self.norm(")
    assert "`F.dropout` (p=0.25) feeds `self.norm` (BatchNorm1d)" in finding.message


def test_a_linear_bias_over_features_before_a_batchnorm_over_positions_is_not_cancelled(tmp_path):
    """(batch, positions, features) into `BatchNorm1d(positions)`: the bias is per feature, the normalisation per
    position, so the bias survives. (The static pass, blind to shapes, flags this form.)"""
    from nnlint import registry
    from nnlint.config import InputSpec
    from nnlint.graph.engine import check_target
    from nnlint.graph.targets import GraphTarget

    (tmp_path / "net.py").write_text(
        _source(
            """
            class PositionNorm(nn.Module):
                def __init__(self, positions=6, features=8):
                    super().__init__()
                    self.proj = nn.Linear(features, features)
                    self.norm = nn.BatchNorm1d(positions)

                def forward(self, x):
                    return self.norm(self.proj(x))
            """
        ),
        encoding="utf-8",
    )
    target = GraphTarget("net.py:PositionNorm", inputs=(InputSpec((2, 6, 8)),))
    assert check_target(target, tmp_path, registry.rules_for(["NN402"])).findings == []


def test_layers_laid_out_by_an_installed_package_are_not_reported(tmp_path, monkeypatch):
    """A model from a package in site-packages (timm, torchvision): its wiring is not the user's to change."""
    package = tmp_path / "lib" / "site-packages"
    package.mkdir(parents=True)
    (package / "wiring_vendor.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            class VendorNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Dropout(0.2), nn.BatchNorm2d(8))

                def forward(self, x):
                    return self.features(x)
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(package))
    source = _source(
        """
        from wiring_vendor import VendorNet


        class Mine(nn.Module):
            def __init__(self):
                super().__init__()
                self.vendor = VendorNet()
                self.own = nn.Sequential(nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8))

            def forward(self, x):
                return self.own(self.vendor(x))
        """
    )
    try:
        findings = graph_findings(source, tmp_path)
    finally:
        sys.modules.pop("wiring_vendor", None)
    assert [(f.code, f.location.line) for f in findings] == [("NN402", _line(source, "self.own ="))]


def test_unused_layer_read_in_a_nested_branch_names_the_innermost_condition(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, use_extra=False):
                super().__init__()
                self.use_extra = use_extra
                self.fc = nn.Linear(8, 8)
                self.extra = nn.Linear(8, 8)

            def forward_features(self, x):
                x = self.fc(x)
                if self.use_extra:
                    x = x if self.training else self.extra(x)
                return x

            def forward(self, x):
                return self.forward_features(x)
        """
    )
    [finding] = graph_findings(source, tmp_path)
    assert finding.code == "NN303" and finding.location.line == _line(source, "self.extra =")
    assert "used in `forward_features` only when `self.training` is False" in finding.message


def test_unused_layer_read_both_in_forward_and_in_another_method_is_used(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, refine=False):
                super().__init__()
                self.refine = refine
                self.fc = nn.Linear(8, 8)
                self.refiner = nn.Linear(8, 8)

            def forward(self, x):
                x = self.fc(x)
                return self.refiner(x) if self.refine else x

            def refine_step(self, x):
                return self.refiner(x)
        """
    )
    assert graph_findings(source, tmp_path) == []


def test_a_layer_only_initialised_by_another_method_is_still_unused(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.spare = nn.Linear(8, 8)
                self._init_weights()

            def _init_weights(self):
                nn.init.zeros_(self.spare.bias)

            def forward(self, x):
                return self.fc(x)
        """
    )
    [finding] = graph_findings(source, tmp_path)
    assert finding.code == "NN303" and "is never used in forward" in finding.message


def test_a_file_that_also_trains_a_regression_loss_is_not_judged(tmp_path):
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, sizes=(8, 16, 4)):
                super().__init__()
                self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

            def forward(self, x):
                for layer in self.layers:
                    x = F.relu(layer(x))
                return x


        def losses(model, x, y, target):
            return F.cross_entropy(model(x), y) + F.mse_loss(model(x), target)
        """
    )
    assert graph_findings(source, tmp_path) == []


def test_graph_findings_point_into_the_users_file(tmp_path):
    """Every wiring finding of a fixture-like model points at a line of the checked file (never torch's source)."""
    source = _source(
        """
        class Net(nn.Module):
            def __init__(self, widths=(8, 8)):
                super().__init__()
                for i, width in enumerate(widths):
                    setattr(self, f"lin{i}", nn.Linear(width, width))
                    setattr(self, f"bn{i}", nn.BatchNorm1d(width))
                self.n = len(widths)

            def forward(self, x):
                for i in range(self.n):
                    x = getattr(self, f"bn{i}")(getattr(self, f"lin{i}")(x))
                return x
        """
    )
    findings = graph_findings(source, tmp_path)
    assert {f.code for f in findings} == {"NN402"}
    assert {Path(f.location.path).name for f in findings} == {"example.py"}
    assert {f.location.line for f in findings} == {_line(source, 'getattr(self, f"bn{i}")(getattr')}


@pytest.mark.parametrize(
    "returned, kind",
    [
        ("self.fc(x)", "logits"),
        ("self.fc(x).view(-1, 4)", "logits"),
        ("F.log_softmax(self.fc(x), dim=1)", "log-softmax"),
        ("self.fc(x).softmax(-1)", "softmax"),
        ("torch.sigmoid(self.fc(x))", "sigmoid"),
        ("F.relu(self.fc(x))", "activated logits"),
        ("self.fc(x) + x.mean()", ""),
        ("(self.fc(x), x)", ""),
    ],
)
def test_the_graph_result_says_what_the_model_outputs(tmp_path, returned, kind):
    from nnlint import registry
    from nnlint.graph.engine import check_target
    from nnlint.graph.targets import GraphTarget

    (tmp_path / "net.py").write_text(
        _source(
            f"""
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    return {returned}
            """
        ),
        encoding="utf-8",
    )
    result = check_target(GraphTarget("net.py:Net"), tmp_path, registry.rules_for(["NN206"]))
    assert result.output_kind == kind
    assert type(result).from_dict(result.to_dict()).output_kind == kind


def test_construction_sites_are_recorded_only_while_building(tmp_path):
    """`graph.construction` patches `nn.Module.__init__` for the build only; a user layer's own `super().__init__()`
    is not its construction site, the caller's line is."""
    from nnlint.graph import construction

    original = torch.nn.Module.__init__
    (tmp_path / "layers.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(2, 2)

            def make():
                return nn.Sequential(
                    Block(),
                    nn.Dropout(0.1),
                )
            """
        ),
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import layers  # type: ignore[import-not-found]

        with construction.recording():
            model = layers.make()
        outside = layers.Block()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("layers", None)
    assert torch.nn.Module.__init__ is original
    path = str(tmp_path / "layers.py")
    assert construction.built_at(model[0]) == (path, 11)
    assert construction.built_at(model[0].fc) == (path, 7)
    assert construction.built_at(model[1]) == (path, 12)
    assert construction.built_at(outside) is None


def test_a_layer_read_by_a_method_that_forward_calls_only_in_eval_mode(tmp_path):
    source = _source(
        """
        class Detector(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = nn.Linear(8, 8)
                self.refine = nn.Linear(8, 8)

            def forward_train(self, x):
                return self.backbone(x)

            def forward_test(self, x):
                return self.refine(self.backbone(x))

            def forward(self, x):
                if self.training:
                    return self.forward_train(x)
                return self.forward_test(x)
        """
    )
    [finding] = graph_findings(source, tmp_path)
    assert finding.code == "NN303" and finding.location.line == _line(source, "self.refine =")
    assert "used in `forward` only when `self.training` is False" in finding.message


def test_without_fx_a_batchnorm_called_on_a_dropouts_output_is_found_by_the_hooks(tmp_path):
    """A model fx cannot trace (a branch on the input's shape) is run eagerly: the hooks see which layer's output
    object went straight into which layer; an op in between (`y + 1`) makes a new tensor, so no finding there."""
    source = _source(
        """
        class Untraceable(nn.Module):
            def __init__(self, width=16, names=("drop", "norm")):
                super().__init__()
                self.names = names
                self.body = nn.Sequential(*[nn.Linear(width, width), nn.Dropout(0.5), nn.BatchNorm1d(width)])
                setattr(self, names[0], nn.Dropout(0.2))
                setattr(self, names[1], nn.BatchNorm1d(width))
                self.last = nn.Dropout(0.3)
                self.after = nn.BatchNorm1d(width)

            def forward(self, x):
                if x.shape[0] > 1:
                    x = self.body(x)
                x = getattr(self, self.names[1])(getattr(self, self.names[0])(x))
                return self.after(self.last(x) + 1)
        """
    )
    findings = graph_findings(source, tmp_path)
    assert sorted((f.code, f.location.line) for f in findings) == [
        ("NN401", _line(source, "nn.Dropout(0.5)")),
        ("NN401", _line(source, "x = getattr(self")),
    ]
