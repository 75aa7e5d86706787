"""Work skipping, parallelism and the cache make nnlint fast; none of them may change what it finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnlint import registry
from nnlint.static import engine, parse, schedule
from nnlint.static.cache import Cache
from nnlint.types import Pass

ROOT = Path(__file__).resolve().parent.parent
STATIC_RULES = [rule for rule in registry.BY_CODE.values() if Pass.STATIC in rule.passes]


def _corpus():
    files = sorted(ROOT.glob("fixtures/**/*.py")) + sorted(ROOT.glob("bench/precision_snippets/**/*.py"))
    return [(path, path.relative_to(ROOT).as_posix()) for path in files]


def _keys(findings):
    return sorted((f.location.path, f.location.line, f.location.column, f.code, f.message) for f in findings)


def test_skipping_files_by_needles_never_changes_findings(monkeypatch):
    with_skipping = _keys(engine.check_files(_corpus(), STATIC_RULES))
    for rule in STATIC_RULES:
        monkeypatch.setattr(rule, "needles", ())
    assert _keys(engine.check_files(_corpus(), STATIC_RULES)) == with_skipping


def test_parallel_run_finds_the_same_as_serial(monkeypatch):
    serial = _keys(engine.check_files(_corpus(), STATIC_RULES, workers=1))
    monkeypatch.setattr(schedule, "PARALLEL_MIN_FILES", 2)
    assert _keys(engine.check_files(_corpus(), STATIC_RULES, workers=2)) == serial


def test_skipping_loop_models_never_changes_findings(monkeypatch):
    """NN405/NN407 build no loop model for a file without evaluation code (LoopRule.may_apply)."""
    from nnlint.static.loops import LoopRule

    corpus = _corpus() + [
        (path, path.relative_to(ROOT).as_posix()) for path in sorted(ROOT.glob("bench/recall/**/*.py"))
    ]
    with_skipping = _keys(engine.check_files(corpus, STATIC_RULES))
    for rule in STATIC_RULES:
        if issubclass(rule, LoopRule):
            monkeypatch.setattr(rule, "may_apply", LoopRule.may_apply)
    assert _keys(engine.check_files(corpus, STATIC_RULES)) == with_skipping


def _project(tmp_path, sources):
    """A folder of files (name -> text), and the (path, display path) pairs to check, by name."""
    project = tmp_path / "project"
    project.mkdir()
    for name, text in sources.items():
        (project / name).write_text(text)
    return project, [(project / name, name) for name in sorted(sources)]


def _parses(monkeypatch):
    calls = []
    original = parse.parse_source

    def counting(display, source, project):
        calls.append(display)
        return original(display, source, project)

    monkeypatch.setattr(parse, "parse_source", counting)
    return calls


def test_warm_cache_reparses_nothing_and_finds_the_same(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache", "salt")
    cold = _keys(engine.check_files(_corpus(), STATIC_RULES, cache=cache))
    calls = _parses(monkeypatch)
    warm = _keys(engine.check_files(_corpus(), STATIC_RULES, cache=cache))
    assert warm == cold and calls == []


def test_cache_follows_a_change_in_another_file(tmp_path, monkeypatch):
    project, files = _project(
        tmp_path,
        {
            "net.py": "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\n"
            "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n",
            "train.py": "import torch.nn as nn\nfrom net import Net\n\nmodel = Net()\ncriterion = nn.CrossEntropyLoss()\n"
            "\n\ndef step(x, y):\n    return criterion(model(x), y)\n",
            "other.py": "import torch.nn.functional as F\n\n\ndef f(x, y):\n    return F.cross_entropy(x, y)\n",
        },
    )
    cache = Cache(tmp_path / "cache", "salt")
    assert [f.code for f in engine.check_files(files, STATIC_RULES, cache=cache)] == ["NN201"]
    net = project / "net.py"
    net.write_text(net.read_text().replace("F.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    calls = _parses(monkeypatch)
    assert engine.check_files(files, STATIC_RULES, cache=cache) == []
    assert "other.py" not in calls and "train.py" in calls  # the dependent file was re-checked, the unrelated one not


@pytest.mark.parametrize("salt", ["other-rules", "other-version"])
def test_a_different_salt_ignores_old_entries(tmp_path, salt, monkeypatch):
    engine.check_files(_corpus()[:5], STATIC_RULES, cache=Cache(tmp_path, "salt"))
    calls = _parses(monkeypatch)
    engine.check_files(_corpus()[:5], STATIC_RULES, cache=Cache(tmp_path, salt))
    assert calls


def test_an_edit_that_keeps_a_files_classes_the_same_rechecks_only_that_file(tmp_path, monkeypatch):
    project, files = _project(
        tmp_path,
        {
            "net.py": "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
            "    def forward(self, x):\n        return F.softmax(x, dim=1)\n",
            "train.py": "import torch.nn as nn\nfrom net import Net\n\nmodel = Net()\ncriterion = nn.CrossEntropyLoss()\n"
            "\n\ndef step(x, y):\n    return criterion(model(x), y)\n",
        },
    )
    cache = Cache(tmp_path / "cache", "salt")
    cold = _keys(engine.check_files(files, STATIC_RULES, cache=cache))
    net = project / "net.py"
    net.write_text(net.read_text() + "# a comment\n")
    calls = _parses(monkeypatch)
    assert _keys(engine.check_files(files, STATIC_RULES, cache=cache)) == cold
    assert calls == ["net.py"]  # train.py asked what Net.forward returns: the answer is the same, so its entry holds


def test_cache_follows_a_new_init_function_in_another_file(tmp_path, monkeypatch):
    """NN305 accepts a parameter that a model-wide init function in any checked file initialises; adding
    such a function to another file must redo the cached NN305 finding (it used to stay stale)."""
    project, files = _project(
        tmp_path,
        {
            "layer.py": "import torch\nimport torch.nn as nn\n\n\nclass Scale(nn.Module):\n    def __init__(self, n):\n"
            "        super().__init__()\n        self.w = nn.Parameter(torch.empty(n))\n\n"
            "    def forward(self, x):\n        return x * self.w\n",
            "init.py": "import torch.nn as nn\n\n\ndef helper():\n    return 1\n",
        },
    )
    init = project / "init.py"
    cache = Cache(tmp_path / "cache", "salt")
    assert [f.code for f in engine.check_files(files, STATIC_RULES, cache=cache)] == ["NN305"]
    init.write_text(
        "import torch.nn as nn\nfrom layer import Scale\n\n\ndef init_weights(module):\n"
        "    if isinstance(module, Scale):\n        nn.init.ones_(module.w)\n"
    )
    fresh = engine.check_files(files, STATIC_RULES)
    assert fresh == []
    assert engine.check_files(files, STATIC_RULES, cache=cache) == fresh


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_rounds_of_workers_share_class_summaries_and_find_the_same(tmp_path, monkeypatch, cached):
    """Every round of fresh workers learns what the classes of earlier rounds' files return from their summaries
    (made in rounds even without a cache) instead of parsing those files again: the findings are the serial run's."""
    serial = _keys(engine.check_files(_corpus(), STATIC_RULES, workers=1))
    monkeypatch.setattr(schedule, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(schedule, "CHUNK_BYTES", 20_000)  # many rounds
    cache = Cache(tmp_path / "cache", "salt") if cached else None
    assert _keys(engine.check_files(_corpus(), STATIC_RULES, cache=cache, workers=2)) == serial


def test_a_file_rechecked_alone_learns_what_other_classes_return_from_their_summaries(tmp_path, monkeypatch):
    """Re-checking one edited file asks what the classes it uses return; where a valid cache entry says a class
    returns nothing known, its file is not parsed again (a hub file of layers was parsed for every edit)."""
    project, files = _project(
        tmp_path,
        {
            "layers.py": "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
            "        return x + self.fc(x)\n",
            "heads.py": "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Head(nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\n"
            "    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n",
            "model.py": "import torch.nn as nn\nfrom layers import Block\nfrom heads import Head\n\n\n"
            "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.block = Block()\n"
            "        self.head = Head()\n\n    def forward(self, x):\n        return self.head(self.block(x))\n\n\n"
            "criterion = nn.CrossEntropyLoss()\n\n\ndef step(x, y):\n    return criterion(Net()(x), y)\n",
        },
    )
    model = project / "model.py"
    cache = Cache(tmp_path / "cache", "salt")
    cold = _keys(engine.check_files(files, STATIC_RULES, cache=cache))
    assert [key[3] for key in cold] == ["NN201"]  # Head returns softmax probabilities into CrossEntropyLoss
    model.write_text(model.read_text() + "# edited\n")
    calls = _parses(monkeypatch)
    assert _keys(engine.check_files(files, STATIC_RULES, cache=cache)) == cold
    assert "layers.py" not in calls  # Block returns nothing known: its summary says so
    assert "heads.py" in calls  # Head returns softmax: the finding needs where, so its file is parsed
