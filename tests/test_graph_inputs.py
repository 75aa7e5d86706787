"""The graph pass's inputs (issue 14): defaults kept, several and keyword inputs, NN301 only for a real shape
error, the summary on the hooks path, and `-v`. Each behaviour's model is also a fixture (fixtures/NN301, NN014)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from graph_support import graph_findings  # noqa: E402

from nnlint import registry  # noqa: E402
from nnlint.config import InputSpec  # noqa: E402
from nnlint.graph import inputs as input_plans  # noqa: E402
from nnlint.graph.targets import GraphTarget  # noqa: E402
from nnlint.types import Pass  # noqa: E402

pytestmark = pytest.mark.torch

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
GRAPH_RULES = [rule for rule in registry.BY_CODE.values() if Pass.GRAPH in rule.passes]


def _check(source: str, folder: Path, name: str, inputs=None, summary: bool = False):
    from nnlint.graph.engine import check_target

    (folder / "model.py").write_text(HEADER + textwrap.dedent(source), encoding="utf-8")
    return check_target(GraphTarget(f"model.py:{name}", inputs=inputs), folder, GRAPH_RULES, summary)


TWO_INPUTS = """
class Fusion(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.proj = nn.Linear(4, 8)
        self.head = nn.Linear(16, 2) if width == 16 else nn.Linear(width, 2)

    def forward(self, tokens, extra, mask=None):
        text = self.embed(tokens).mean(1)
        if mask is not None:
            text = text * mask.float().mean(1, keepdim=True)
        return self.head(torch.cat([text, self.proj(extra)], 1))
"""


def test_a_model_with_an_optional_argument_is_traced_with_its_default(tmp_path):
    source = """
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.head = nn.Linear(8, 20)

        def forward(self, idx, targets=None):
            logits = self.head(self.embed(idx))
            if targets is None:
                return logits
            return F.cross_entropy(logits.view(-1, 20), targets.view(-1))
    """
    result = _check(source, tmp_path, "LM")
    assert result.findings == [] and result.method == "fx" and result.input_description == "int64[B, 16] in [0, 20)"


def test_an_input_shape_without_dtype_becomes_token_ids_when_an_embedding_refuses_floats(tmp_path):
    """`nnlint graph model.py:LM --input-shape 2,8`: as in the probe, int64 ids in the embedding's range."""
    source = """
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.head = nn.Linear(8, 20)

        def forward(self, idx):
            return self.head(self.embed(idx))
    """
    result = _check(source, tmp_path, "LM", inputs=(InputSpec((2, 8)),))
    assert result.findings == [] and result.input_description.startswith("int64[2, 8]")


def test_a_float_input_shape_that_works_is_kept(tmp_path):
    source = """
    class Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 1)

        def forward(self, x):
            return self.body(x)
    """
    result = _check(source, tmp_path, "Regressor", inputs=(InputSpec((2, 8)),))
    assert result.findings == [] and result.input_description.startswith("float")


def test_every_required_argument_read_from_its_layer_is_inferred(tmp_path):
    result = _check(TWO_INPUTS, tmp_path, "Fusion")
    assert result.findings == [] and result.input_description == "int64[B, 16] in [0, 50), float[B, 4]"


def test_configured_inputs_of_any_arity_with_a_keyword_are_checked_for_real(tmp_path):
    inputs = (
        InputSpec((2, 5), "int64", 0, 50),
        InputSpec((2, 4)),
        InputSpec((2, 5), "bool", name="mask"),
    )
    result = _check(TWO_INPUTS, tmp_path, "Fusion", inputs)
    assert result.findings == [] and "mask=bool[2, 5]" in result.input_description
    broken = _check(TWO_INPUTS.replace("width=16", "width=12"), tmp_path, "Fusion", inputs)
    assert [f.code for f in broken.findings] == ["NN301"]
    assert "`self.head` (Linear) expects 12 input features" in broken.findings[0].message


def test_a_configured_input_of_the_wrong_arity_is_a_configuration_note_not_a_shape_error(tmp_path):
    result = _check(TWO_INPUTS, tmp_path, "Fusion", (InputSpec((2, 5), "int64", 0, 50),))
    [finding] = result.findings
    assert finding.code == "NN014" and "missing 1 required positional argument: 'extra'" in finding.message
    assert "2 required arguments (tokens, extra)" in finding.message and "inputs = [{shape = [...]}, {shape" in (
        finding.message
    )


def test_a_none_argument_failing_in_user_code_is_never_a_shape_error(tmp_path):
    source = """
    class NeedsState(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.state = None

        def forward(self, x):
            return self.fc(x) + self.state.view(-1)
    """
    assert [f.code for f in _check(source, tmp_path, "NeedsState").findings] == ["NN014"]


def test_fx_disagreeing_with_eager_is_the_tracers_problem(tmp_path):
    source = (Path(__file__).parent.parent / "fixtures" / "NN301" / "ok_fx_disagrees_with_eager.py").read_text()
    result = _check(source, tmp_path, "SmallUNet")
    assert result.findings == [] and result.method == "hooks"


def test_the_summary_shows_every_module_output_on_the_hooks_path(tmp_path):
    source = """
    class Untraceable(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.blocks = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
            self.head = nn.Linear(8, 3)

        def forward(self, idx):
            assert idx.shape[1] <= 32, "too long"
            return self.head(self.blocks(self.embed(idx)))
    """
    result = _check(source, tmp_path, "Untraceable", summary=True)
    assert result.method == "hooks"
    shapes = {row["module"]: row["output_shape"] for row in result.summary}
    assert shapes == {
        "(model)": (2, 16, 3),
        "embed": (2, 16, 8),
        "blocks": (2, 16, 8),
        "blocks.0": (2, 16, 8),
        "blocks.1": (2, 16, 8),
        "head": (2, 16, 3),
    }
    assert {row["module"]: row["dtype"] for row in result.summary}["embed"] == "float32"  # int64 ids in


def test_a_graph_network_gets_its_edge_index_from_the_argument_name(tmp_path):
    source = (Path(__file__).parent.parent / "fixtures" / "NN301" / "ok_gnn_with_edge_index.py").read_text()
    result = _check(source, tmp_path, "NodeClassifier")
    assert result.findings == [] and result.input_description == "x=float[B, 8], edge_index=int64[2, 14]"


def test_the_input_contract_splits_positional_and_keyword_inputs():
    plan = input_plans.from_specs((InputSpec((2, 3)), InputSpec((2, 3), name="attention_mask"), InputSpec((2, 1))))
    args, kwargs = plan.arguments(plan.make(4, 0))
    assert [tuple(t.shape) for t in args] == [(4, 3), (4, 1)] and list(kwargs) == ["attention_mask"]


def test_verbose_lists_the_module_classes_discovery_skipped(tmp_path, capsys):
    from nnlint.cli import main

    (tmp_path / "gpt.py").write_text(
        HEADER
        + textwrap.dedent(
            """
            class GPT(nn.Module):
                def __init__(self, config):
                    super().__init__()
                    self.fc = nn.Linear(config.dim, config.dim)

                def forward(self, x):
                    return self.fc(x)
            """
        ),
        encoding="utf-8",
    )
    main(["check", "-v", "--no-cache", str(tmp_path / "gpt.py")])
    err = capsys.readouterr().err
    assert "gpt.py:GPT" in err and "its constructor needs arguments (config)" in err
    assert '[[tool.nnlint.models]] target = "' in err


def test_discovered_findings_use_graph_support(tmp_path):
    """The optional-argument model stays silent through discovery, as `nnlint src/` runs it."""
    source = (Path(__file__).parent.parent / "fixtures" / "NN301" / "ok_optional_targets_argument.py").read_text()
    assert graph_findings(source, tmp_path) == []


MASKED = """
class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 16)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)

    def forward(self, tokens, src_mask):
        CHECK
        return self.layer(self.embed(tokens), src_mask=src_mask)
"""


def test_torchs_own_value_questions_on_meta_take_the_general_path(tmp_path):
    """nn.Transformer asks `bool((mask == causal).all())` to pick a fast path: on meta, the general path."""
    inputs = (InputSpec((2, 6), "int64", 0, 30), InputSpec((6, 6), batched=False))
    assert _check(MASKED.replace("CHECK", "pass"), tmp_path, "Masked", inputs).findings == []
    own = _check(MASKED.replace("CHECK", "assert not bool(src_mask.isnan().any())"), tmp_path, "Masked", inputs)
    # the user's own value question still needs real values
    assert [(f.code, f.severity.value) for f in own.findings] == [("NN012", "warning")]
