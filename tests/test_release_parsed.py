"""Parsed trees are released after each checked file (peak memory bounded by the files in use, issue 13): a file
released and parsed again when another file asks about it must give exactly the findings of a run that keeps
every tree. Checked on fixtures/ (every rule's hits and near-misses, cross-file cases included)."""

from __future__ import annotations

import json
from pathlib import Path

from nnlint.config import Config
from nnlint.reporters import get_reporter
from nnlint.reporters.base import ReportContext
from nnlint.runner import GraphOptions, Performance, Selection, run
from nnlint.static import analysis

REPO = Path(__file__).resolve().parent.parent


def _json(monkeypatch, keep: int) -> str:
    import io

    monkeypatch.setattr(analysis, "KEEP_PARSED", keep)
    monkeypatch.chdir(REPO)
    result = run(
        [Path("fixtures")],
        Config(),
        REPO,
        Selection(("ALL",)),
        graph=GraphOptions(enabled=False),
        performance=Performance(workers=1, cache_dir=None),
    )
    out = io.StringIO()
    get_reporter("json").render(
        result.findings, out, ReportContext(result.files_checked, result.read_text, False, False, {})
    )
    return out.getvalue()


def test_releasing_every_tree_changes_no_finding(monkeypatch):
    kept = _json(monkeypatch, 10**6)
    released = _json(monkeypatch, 0)
    assert json.loads(kept), "fixtures/ must give findings"
    assert released == kept


def test_released_files_are_parsed_again_when_asked_about():
    from nnlint.static.parse import parse_for_index
    from nnlint.static.project import ProjectIndex

    project = ProjectIndex(parse_for_index)
    project.add_deferred(
        "net.py",
        "import torch.nn as nn\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return x.softmax(1)\n",
    )
    assert [semantics.path for semantics, _ in project.definitions("Net")] == ["net.py"]
    assert project.release(0) == 1
    assert [semantics.path for semantics, _ in project.definitions("Net")] == ["net.py"]  # parsed again
