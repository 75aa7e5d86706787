"""Value flow across functions and files (nnlint/static/flow.py, calls.py) and the project's imported modules
(nnlint/static/project_files.py): what a pre-commit run on one changed file must still know."""

from __future__ import annotations

import shutil
from pathlib import Path

import libcst as cst
import pytest

from nnlint.api import check_source
from nnlint.config import Config
from nnlint.runner import GraphOptions, Performance, run
from nnlint.static.calls import bind
from nnlint.static.project_files import context_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NO_GRAPH = GraphOptions(enabled=False)


def _codes(paths, cwd, cache=None):
    result = run(paths, Config(), cwd=cwd, graph=NO_GRAPH, performance=Performance(workers=1, cache_dir=cache))
    return [(f.location.path, f.code) for f in result.findings]


def test_only_the_training_file_named_still_knows_the_model_file():
    case = FIXTURES / "NN201" / "trainer_class_factory"
    assert _codes([case / "trainer.py"], case.parent) == [("trainer_class_factory/trainer.py", "NN201")]
    ok = FIXTURES / "NN201" / "ok_trainer_class_factory"
    assert _codes([ok / "trainer.py"], ok.parent) == []


def test_nothing_is_reported_in_context_files(tmp_path):
    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n"
        "class Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(x, dim=1)\n\n"
        "def loss(x, y):\n    return nn.CrossEntropyLoss()(F.softmax(x, dim=1), y)\n",
        encoding="utf-8",
    )
    (tmp_path / "train.py").write_text(
        "import torch.nn.functional as F\nfrom model import Net\n\n"
        "def step(model, x, y):\n    return F.cross_entropy(model(x), y)\n\n"
        "def main(x, y):\n    step(Net(), x, y)\n",
        encoding="utf-8",
    )
    assert _codes([tmp_path / "train.py"], tmp_path) == [("train.py", "NN201")]


def test_a_changed_context_file_invalidates_the_cached_finding(tmp_path):
    case = tmp_path / "proj"
    shutil.copytree(FIXTURES / "NN201" / "trainer_class_factory", case)
    cache = tmp_path / "cache"
    assert _codes([case / "trainer.py"], tmp_path, cache) == [("proj/trainer.py", "NN201")]
    models = case / "models.py"
    models.write_text(models.read_text(encoding="utf-8").replace(", nn.Softmax(dim=1))", ")"), encoding="utf-8")
    assert _codes([case / "trainer.py"], tmp_path, cache) == []


def test_context_files_follow_relative_package_and_sibling_imports(tmp_path):
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    for name in ("__init__.py", "models.py", "losses.py", "utils.py"):
        (package / name).write_text("", encoding="utf-8")
    (package / "train.py").write_text(
        "from .models import Net\nfrom pkg import losses\nimport torch\n", encoding="utf-8"
    )
    (package / "losses.py").write_text("from .utils import x\n", encoding="utf-8")
    found = {path.name for path in context_files([package / "train.py"], tmp_path)}
    assert found == {"__init__.py", "models.py", "losses.py", "utils.py"}


def test_arguments_bind_by_keyword_position_and_not_through_star_args():
    function = cst.ensure_type(cst.parse_statement("def train(model, loader, *, epochs=1): pass"), cst.FunctionDef)
    model, loader = function.params.params
    epochs = function.params.kwonly_params[0]

    def call(text):
        return cst.ensure_type(cst.parse_expression(text), cst.Call)

    assert cst.Module([]).code_for_node(bind(call("train(net, dl)"), function, model, False)) == "net"
    assert cst.Module([]).code_for_node(bind(call("train(dl, model=net)"), function, model, False)) == "net"
    assert cst.Module([]).code_for_node(bind(call("train(net, epochs=3, loader=dl)"), function, loader, False)) == "dl"
    assert bind(call("train(*args)"), function, model, False) is None
    assert bind(call("train(net, dl)"), function, epochs, False) is None


def test_unknown_callers_keep_the_parameter_unknown():
    source = (
        "import torch.nn as nn\n\n"
        "def fit(model, x, y):\n    return nn.CrossEntropyLoss()(model(x), y)\n\n"
        "def main(models, x, y):\n    for m in models:\n        fit(m, x, y)\n"
    )
    assert check_source(source) == []


def test_two_file_mnist_named_alone():
    case = FIXTURES / "NN202" / "two_files"
    assert _codes([case / "main.py"], case.parent) == [("two_files/main.py", "NN202")]
    ok = FIXTURES / "NN202" / "ok_two_files"
    assert _codes([ok / "main.py"], ok.parent) == []


def test_call_summary_qualifies_calls_as_the_libcst_analysis_does():
    from nnlint.static.call_summary import summarize_calls

    summary = summarize_calls(
        "import pkg.train as t\nfrom .models import build\nfrom helpers import train\n"
        "# train(model) in a comment\ns = 'train(x)'\ndef train_all():\n    train(a)\n    t.train(b)\n"
        "    build(c)\n    self.model.train()\n",
        "pkg/run.py",
    )
    assert summary is not None
    # the call, and the mentions in a comment and a string: a superset, never a miss
    assert summary.count("train", lambda q: q == "helpers.train") == 3
    assert summary.count("train", lambda q: q == "pkg.train.train") == 1
    assert summary.count("train", lambda q: q is None) == 1  # `self.model.train()`: its receiver is not imported
    assert summary.count("build", lambda q: q == "pkg.models.build") == 1
    assert not summary.calls("train_all")
    assert summarize_calls("def broken(:\n", "x.py") is None


@pytest.mark.parametrize(
    "text",
    [
        "a . train(",
        "1x . train(",
        "f(x).train(",
        "def train(",
        "class  train(",
        "async def train(",
        "xtrain(",
        "a.b .\n c. train (",
        "_1.train(",
        "a..train(",
        "'s'.train(",
        "]. train(",
        "a.\u2028train(",
        "traintrain(",
        "x = y.z.train(q.train(1))",
        "the model is trained by calling train(",
    ],
)
def test_calls_are_found_as_by_the_pattern_over_the_whole_text(text):
    """call_summary tries its pattern only before each `name(`: the same calls and receivers as trying it
    everywhere, on receivers of any spelling."""
    import re

    from nnlint.static.call_summary import _calls_of

    everywhere = re.compile(
        r"(?<![\w.])(?<!def )(?<!class )((?:[A-Za-z_]\w*\s*\.\s*)*)train\s*\(|(?<=[)\]}'\"]\.)train\s*\("
    )
    expected = [(match.span(), match.group(1)) for match in everywhere.finditer(text)]
    assert [(match.span(), match.group(1)) for match in _calls_of("train", text)] == expected


def test_callers_are_parsed_only_where_a_call_binds_the_function(tmp_path):
    """A file that only mentions `train(` (a comment, another module's `train`) is never parsed for call sites,
    and a helper called from more places than value flow follows has none of its callers parsed."""
    from nnlint.static import parse
    from nnlint.static.project import ProjectIndex

    sources = {
        "lib/loop.py": "def train(model):\n    return model\n\ndef helper(x):\n    return x\n",
        "lib/main.py": "from lib.loop import train\n\ntrain(Net())\n",
        "lib/other.py": "from elsewhere import train\n# train(model)\ntrain(3)\n",
        **{f"lib/many{i}.py": "from lib.loop import helper\n" + "helper(1)\n" * 5 for i in range(3)},
    }
    parsed = []

    def parser(display, text, index):
        parsed.append(display)
        return parse.parse_for_index(display, text, index)

    index = ProjectIndex(parser)
    for display, text in sources.items():
        index.add_deferred(display, text)
    callers = index.files_calling(("train(",), "train", lambda q: q == "lib.loop.train", exclude="lib/loop.py")
    assert [f.path for f in callers or []] == ["lib/main.py"]
    assert parsed == ["lib/main.py"]
    assert index.files_calling(("helper(",), "helper", lambda q: q == "lib.loop.helper", limit=12) is None
    assert parsed == ["lib/main.py"]


def test_a_warm_run_analyses_nothing_when_the_model_lives_in_a_context_file(tmp_path, monkeypatch):
    """The trainer's cached finding depends on what the context file's class returns; that file is never checked,
    so its class summaries are cached on their own (else every run would analyse the trainer again)."""
    from nnlint.static import engine

    case = tmp_path / "proj"
    shutil.copytree(FIXTURES / "NN201" / "trainer_class_factory", case)
    cache = tmp_path / "cache"
    assert _codes([case / "trainer.py"], tmp_path, cache) == [("proj/trainer.py", "NN201")]
    analysed = []
    real = engine.analyze_batch
    monkeypatch.setattr(
        engine, "analyze_batch", lambda sources, batch, *rest: analysed.append(batch) or real(sources, batch, *rest)
    )
    assert _codes([case / "trainer.py"], tmp_path, cache) == [("proj/trainer.py", "NN201")]
    assert analysed == []
    # the model file named too: its summary-only entry is not taken for a checked file's findings
    assert sorted(_codes([case / "trainer.py", case / "models.py"], tmp_path, cache)) == [("proj/trainer.py", "NN201")]
    assert analysed == [[1]]


def test_a_call_word_is_not_found_inside_a_longer_name():
    from nnlint.static.project import mentions_all

    assert not mentions_all("layer = BasicBlock(64)\n", ["Block("])
    assert mentions_all("layer = BasicBlock(64)\nBlock(3)", ["Block("])
    assert mentions_all("x = layers.Block(3)", ["Block("])
    assert mentions_all("Block(3)", ["Block("])
    assert mentions_all("def _init_weights(self):", ["init"])  # not a call: a plain substring


def test_editing_one_file_redoes_only_the_files_whose_answers_it_changes(tmp_path, monkeypatch):
    from nnlint.static import engine

    (tmp_path / "blocks.py").write_text(
        "import torch.nn as nn\n\nclass Block(nn.Module):\n    def __init__(self, act):\n"
        "        super().__init__()\n        self.act = act\n\n    def forward(self, x):\n        return self.act(x)\n",
        encoding="utf-8",
    )
    (tmp_path / "basic.py").write_text(
        "import torch.nn as nn\n\nclass BasicBlock(nn.Module):\n    def __init__(self, width):\n"
        "        super().__init__()\n        self.fc = nn.Linear(width, width)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n\nlayer = BasicBlock(64)\n",
        encoding="utf-8",
    )
    (tmp_path / "train.py").write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\nfrom blocks import Block\n\n"
        "def step(model, x, y):\n    return F.cross_entropy(model(x), y)\n\nstep(Block(nn.Softmax(dim=1)), 1, 2)\n",
        encoding="utf-8",
    )
    files = [tmp_path / name for name in ("basic.py", "blocks.py", "train.py")]
    cache = tmp_path / "cache"
    first = _codes(files, tmp_path, cache)
    assert first == [("train.py", "NN201")]  # the model's forward returns what `Block(...)` was given: softmax
    analysed = []
    real = engine.analyze_batch
    monkeypatch.setattr(
        engine, "analyze_batch", lambda sources, batch, *rest: analysed.append(batch) or real(sources, batch, *rest)
    )
    with open(tmp_path / "basic.py", "a", encoding="utf-8") as out:
        out.write("# edited\n")
    assert _codes(files, tmp_path, cache) == first
    assert analysed == [[0]]


def test_a_torch_layer_does_not_parse_the_project_class_of_the_same_name():
    from nnlint.static import parse
    from nnlint.static.project import ProjectIndex

    parsed = []

    def parser(display, text, index):
        parsed.append(display)
        return parse.parse_for_index(display, text, index)

    index = ProjectIndex(parser)
    index.add_deferred("pkg/layers/linear.py", "import torch.nn as nn\n\nclass Linear(nn.Linear):\n    pass\n")
    assert not index.defined_in("Linear", "torch.nn.Linear")
    assert parsed == []
    assert index.defined_in("Linear", "pkg.layers.linear.Linear")
    assert parsed == ["pkg/layers/linear.py"]


_SOFTMAX_NET = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n"
    "class M(nn.Module):\n    def forward(self, x):\n        return F.softmax(x, dim=1)\n"
)
_TRAIN_M = "import torch.nn as nn\nfrom m0 import M\n\ndef train(x, y):\n    return nn.CrossEntropyLoss()(M()(x), y)\n"


def _many_definitions(tmp_path, count):
    for index in range(count):
        (tmp_path / f"m{index}.py").write_text(_SOFTMAX_NET, encoding="utf-8")
    (tmp_path / "train.py").write_text(_TRAIN_M, encoding="utf-8")
    return sorted(tmp_path.glob("*.py"))


def test_a_class_name_defined_in_a_few_files_that_agree_is_followed(tmp_path):
    assert ("train.py", "NN201") in _codes(_many_definitions(tmp_path, 3), tmp_path)


def test_a_class_name_defined_in_too_many_files_is_not_looked_up(tmp_path):
    """`M` in 17 files (a test suite's throwaway modules): which one is meant cannot be told, so nothing is parsed
    to find out and nothing is reported; a cached run agrees with a cold one."""
    from nnlint.static.project import MAX_DEFINING_FILES

    paths = _many_definitions(tmp_path, MAX_DEFINING_FILES + 1)
    assert ("train.py", "NN201") not in _codes(paths, tmp_path)
    cache = tmp_path / "cache"
    assert _codes(paths, tmp_path, cache) == _codes(paths, tmp_path, cache) == _codes(paths, tmp_path)
