"""`nnlint server` end to end: a scripted LSP client drives `python -m nnlint server` over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsp_support import LspClient, apply_text_edits, utf16_offset

from nnlint.lsp.documents import Document
from nnlint.lsp.positions import UTF8, UTF16, UTF32, LineIndex

BUGGY = textwrap.dedent(
    """\
    import torch.nn as nn
    import torch.nn.functional as F

    net = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    criterion = nn.CrossEntropyLoss()


    def step(x, y):
        logits = net.forward(x)
        probs = F.softmax(logits, dim=1)
        tag = "ŷ 😀"; loss = criterion(probs, y)
        return loss


    class Head(nn.Module):
        def forward(self, x):
            return F.dropout(x, p=0.1)
    """
)
WHOLE_FILE = {"start": {"line": 0, "character": 0}, "end": {"line": 100, "character": 0}}


@pytest.fixture
def client(tmp_path):
    pytest.importorskip("pygls")
    started = LspClient(tmp_path)
    yield started
    started.close()


def _by_code(published: dict) -> dict:
    return {d["code"]: d for d in published["diagnostics"]}


def _code_actions(client: LspClient, path: Path, only=None, where=WHOLE_FILE) -> list:
    context = {"diagnostics": []} if only is None else {"diagnostics": [], "only": only}
    return client.request(
        "textDocument/codeAction", {"textDocument": {"uri": path.as_uri()}, "range": where, "context": context}
    )


def _edits_of(action: dict, path: Path, version: int) -> list:
    (change,) = action["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": path.as_uri(), "version": version}
    return change["edits"]


def test_diagnostics_fixes_and_changes_round_trip(client, tmp_path):
    from nnlint.api import check_document

    path = tmp_path / "train.py"
    client.initialize(tmp_path)
    client.open(path, BUGGY, version=1)
    found = _by_code(client.diagnostics(path, version=1))
    assert set(found) == {"NN201", "NN306", "NN402", "NN408"}

    softmax = found["NN201"]
    line = BUGGY.splitlines()[10]
    start = len(line[: line.index("probs, y")].encode("utf-16-le")) // 2  # the emoji is two UTF-16 units
    assert softmax["range"] == {"start": {"line": 10, "character": start}, "end": {"line": 10, "character": start + 5}}
    assert softmax["severity"] == 1 and softmax["source"] == "nnlint"
    assert softmax["codeDescription"]["href"].endswith("rules/NN201.md")
    assert found["NN402"]["severity"] == 3 and found["NN402"]["range"]["start"]["line"] == 3

    actions = _code_actions(client, path)
    titles = [a["title"] for a in actions]
    dropout = next(a for a in actions if "(NN408)" in a["title"])
    assert dropout["kind"] == "quickfix" and dropout["isPreferred"] is True
    for code in ("NN306", "NN402"):  # unsafe fixes: offered, labelled, never preferred
        unsafe = next(a for a in actions if f"({code})" in a["title"])
        assert "unsafe" in unsafe["title"] and not unsafe.get("isPreferred")
    assert "nnlint: apply all safe fixes" in titles

    fixed = apply_text_edits(BUGGY, _edits_of(dropout, path, 1))
    assert "F.dropout(x, p=0.1, training=self.training)" in fixed
    assert "NN408" not in {f.code for f in check_document(fixed, path)}

    # The fixed text goes back as an incremental change: the NN408 diagnostic goes away, the rest stays.
    (edit,) = _edits_of(dropout, path, 1)
    client.change(path, 2, edit["newText"], edit["range"])
    assert set(_by_code(client.diagnostics(path, version=2))) == {"NN201", "NN306", "NN402"}

    client.change(path, 3, fixed.replace("probs = F.softmax(logits, dim=1)", "probs = logits"))
    assert set(_by_code(client.diagnostics(path, version=3))) == {"NN306", "NN402"}

    assert client.shutdown() == 0


def test_fix_all_applies_every_safe_fix(client, tmp_path):
    from nnlint.api import check_document

    path = tmp_path / "model.py"
    source = BUGGY + "\n\nclass Tail(Head):\n    def forward(self, x):\n        return F.dropout2d(x, 0.2)\n"
    client.initialize(tmp_path)
    client.open(path, source, version=7)
    assert [d["code"] for d in client.diagnostics(path, version=7)["diagnostics"]].count("NN408") == 2

    (fix_all,) = _code_actions(client, path, only=["source.fixAll"])
    assert fix_all["kind"] == "source.fixAll.nnlint"
    fixed = apply_text_edits(source, _edits_of(fix_all, path, 7))
    assert fixed.count("training=self.training") == 2
    assert "net.forward(x)" in fixed and "bias=False" not in fixed  # the unsafe NN306 and NN402 fixes are left out
    assert "NN408" not in {f.code for f in check_document(fixed, path)}
    assert (
        _code_actions(
            client,
            path,
            only=["quickfix"],
            where={"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
        )
        == []
    )
    assert client.shutdown() == 0


def test_config_beside_the_document_is_honoured(client, tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.nnlint]\nignore = ["NN402", "NN408", "forward-called-directly"]\n', encoding="utf-8"
    )
    inside, outside = project / "src" / "train.py", tmp_path / "train.py"
    client.initialize(tmp_path)
    client.open(inside, BUGGY)
    assert set(_by_code(client.diagnostics(inside))) == {"NN201"}
    client.open(outside, BUGGY)
    assert set(_by_code(client.diagnostics(outside))) == {"NN201", "NN306", "NN402", "NN408"}
    assert client.shutdown() == 0


def test_models_in_the_next_file_are_understood_and_close_clears(client, tmp_path):
    (tmp_path / "model.py").write_text(
        textwrap.dedent(
            """\
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 3)

            def forward(self, x):
                return F.softmax(self.fc(x), dim=1)
        """
        ),
        encoding="utf-8",
    )
    train = tmp_path / "train.py"
    source = "import torch.nn as nn\nfrom model import Net\n\nloss = nn.CrossEntropyLoss()(Net()(x), y)\n"
    client.initialize(tmp_path)
    client.open(train, source)
    assert [d["code"] for d in client.diagnostics(train)["diagnostics"]] == ["NN201"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": train.as_uri()}})
    assert client.diagnostics(train)["diagnostics"] == []
    assert client.shutdown() == 0


def test_a_notebooks_json_is_not_linted_as_python(client, tmp_path):
    """Notebooks are checked by the command line; an editor that opens one as a text file gets nothing."""
    notebook, script = tmp_path / "explore.ipynb", tmp_path / "train.py"
    client.initialize(tmp_path)
    client.open(notebook, '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    client.open(script, BUGGY)
    assert client.diagnostics(script)["diagnostics"]
    assert not [
        m
        for m in client._unread
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == notebook.as_uri()
    ]
    assert client.shutdown() == 0


def test_typing_is_debounced(client, tmp_path):
    path = tmp_path / "train.py"
    client.initialize(tmp_path)
    client.open(path, BUGGY, version=1)
    client.diagnostics(path, version=1)
    for version in range(2, 7):  # a burst of keystrokes: only the last version is linted and published
        client.change(path, version, BUGGY + "#" * version)
    published = client.diagnostics(path)
    assert published["version"] == 6
    assert client.shutdown() == 0


@pytest.mark.torch
def test_graph_pass_runs_on_save_and_merges(client, tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "net.py"
    source = textwrap.dedent(
        """\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 16, bias=False)
                self.bn = nn.BatchNorm1d(16)
                self.spare = nn.Linear(16, 16)
                self.out = nn.Linear(16, 3)

            def forward(self, x):
                return self.out(nn.functional.dropout(self.bn(self.fc(x))))
        """
    )
    path.write_text(source, encoding="utf-8")
    client.initialize(tmp_path, {"graph": True})
    client.open(path, source)
    assert set(_by_code(client.diagnostics(path))) == {"NN408"}  # static only: nothing imported yet
    client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
    merged = client.diagnostics(path, timeout=60)
    assert set(_by_code(merged)) == {"NN408", "NN303"}
    assert _by_code(merged)["NN303"]["range"]["start"]["line"] == 8
    client.change(path, 2, source.replace("nn.Linear(16, 16)", "nn.Linear(16, 8)"))
    assert set(_by_code(client.diagnostics(path, version=2))) == {"NN408"}  # its line changed since the save
    assert client.shutdown() == 0


MARKED = textwrap.dedent(
    """\
    import pathlib

    import torch.nn as nn

    pathlib.Path(__file__).with_name("imported.marker").write_text("the repository's code ran")


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.spare = nn.Linear(4, 4)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x)
    """
)


@pytest.mark.torch
def test_opening_and_saving_runs_no_repository_code_unless_the_editor_opts_in(tmp_path):
    """The graph pass on save imports the repository; with default options a clone is only read, never run."""
    pytest.importorskip("pygls")
    pytest.importorskip("torch")
    default, opted_in = tmp_path / "default", tmp_path / "opted_in"
    clients = []
    try:
        for folder, options in ((default, None), (opted_in, {"graph": True})):
            folder.mkdir()
            (folder / "pyproject.toml").write_text('[tool.nnlint]\ngraph = "auto"\n', encoding="utf-8")
            path = folder / "net.py"
            path.write_text(MARKED, encoding="utf-8")
            client = LspClient(folder)
            clients.append(client)
            client.initialize(folder, options)
            client.open(path, MARKED)
            client.diagnostics(path)
            client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
        # The opted-in server's graph findings arrive after its run imported net.py; the default one, saved
        # first, would have written its marker by then too.
        assert "NN303" in _by_code(clients[1].diagnostics(opted_in / "net.py", timeout=60))
        assert (opted_in / "imported.marker").exists()
        assert not (default / "imported.marker").exists()
        assert clients[0].shutdown() == 0
    finally:
        for client in clients:
            client.close()


def test_graph_on_save_is_opt_in():
    pytest.importorskip("pygls")
    from nnlint.lsp.server import NnlintServer, graph_opted_in

    assert NnlintServer().graph_enabled is False
    assert not graph_opted_in({}) and not graph_opted_in({"graph": False}) and not graph_opted_in({"graph": "off"})
    assert graph_opted_in({"graph": True}) and graph_opted_in({"graph": "on"})


def test_graph_pass_can_be_switched_off(tmp_path, monkeypatch):
    pytest.importorskip("pygls")
    from nnlint.lsp.server import NnlintServer

    started = []
    server = NnlintServer()
    monkeypatch.setattr(server.graph_runs, "start", lambda *args: started.append(args))
    path = tmp_path / "net.py"
    path.write_text("x = 1\n", encoding="utf-8")
    document = Document(path.as_uri(), path, "x = 1\n", 1)

    server.graph_enabled = False
    server.start_graph(document)
    assert started == []
    server.graph_enabled = True
    (tmp_path / "pyproject.toml").write_text('[tool.nnlint]\ngraph = "off"\n', encoding="utf-8")
    server.start_graph(document)
    assert started == []
    (tmp_path / "pyproject.toml").write_text('[tool.nnlint]\ngraph = "auto"\n', encoding="utf-8")
    server.start_graph(document)
    assert len(started) == (0 if _missing("torch") else 1)


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def test_server_without_pygls_says_how_to_install(tmp_path):
    program = "import sys; sys.modules['pygls'] = None; from nnlint.cli import main; sys.exit(main(['server']))"
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=str(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "pip install 'nnlint[lsp]'" in result.stderr and "Traceback" not in result.stderr


def test_static_path_imports_neither_pygls_nor_torch(tmp_path):
    (tmp_path / "train.py").write_text(BUGGY, encoding="utf-8")
    program = (
        "import json, sys; import nnlint, nnlint.api; from nnlint.cli import main; main(['--no-graph', 'train.py']);"
        "print(json.dumps(sorted(m for m in ('pygls', 'lsprotocol', 'torch') if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=str(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert "NN201" in result.stdout  # it did lint
    assert json.loads(result.stdout.splitlines()[-1]) == []


@pytest.mark.parametrize("encoding, expected", [(UTF16, 11), (UTF8, 14), (UTF32, 10)])
def test_positions_count_the_clients_code_units(encoding, expected):
    lines = LineIndex("x = 1\r\ns = '😀é'; y\n", encoding)
    assert lines.to_client(2, 11) == (1, expected)  # `y` is code point 10 (0-based) on line 2
    assert lines.to_nnlint(1, expected) == (2, 11)
    assert lines.offset(1, expected) == len("x = 1\r\ns = '😀é'; ")
    assert lines.to_client(9, 1) == (2, 0)  # past the end: clamped


def test_incremental_changes_use_python_line_breaks():
    # \f and \u2028 are not line breaks for LSP or Python (str.splitlines thinks they are)
    text = "a = '\u2028'\fb\nc = 1\n"
    document = Document("file:///x.py", Path("x.py"), text, 1)
    document.apply_change("2", ((1, 4), (1, 5)), UTF16)
    assert document.text == "a = '\u2028'\fb\nc = 2\n"
    assert utf16_offset(text, 1, 4) == text.index("1")
