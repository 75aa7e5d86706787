"""The fixes of NN402 (bias=False) and NN408 (training=self.training): applied to the text, they give
the expected code, which parses and no longer raises the rule."""

from __future__ import annotations

import ast
from typing import List, Sequence

import pytest

from nnlint.api import check_source
from nnlint.types import Edit


def apply(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (1-based line/column, end column exclusive), last first."""
    lines: List[str] = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for edit in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        start, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        text = text[:start] + edit.text + text[end:]
    return text


def fix_all(source: str, code: str) -> str:
    """The source with the fixes of every `code` finding applied (all in one round, as `--fix` does)."""
    findings = [f for f in check_source(source, "case.py") if f.code == code]
    assert findings, f"{code} does not fire on:\n{source}"
    # NN402's fix is unsafe (the bias leaves the state_dict), NN408's is safe
    assert all(f.fix is not None and f.fix.safe == (code != "NN402") for f in findings)
    return apply(source, [edit for f in findings for edit in f.fix.edits])


CASES = [
    (
        "NN402",
        "import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64))\n",
        "import torch.nn as nn\nblock = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64))\n",
    ),
    (
        "NN402",
        "import torch.nn as nn\nhead = nn.Sequential(nn.Linear(512, 256, bias=True), nn.BatchNorm1d(256))\n",
        "import torch.nn as nn\nhead = nn.Sequential(nn.Linear(512, 256, bias=False), nn.BatchNorm1d(256))\n",
    ),
    (
        "NN402",
        "import torch.nn as nn\nhead = nn.Sequential(nn.Conv1d(8, 8, 3, 1, 1, 1, 1, True), nn.BatchNorm1d(8))\n",
        "import torch.nn as nn\nhead = nn.Sequential(nn.Conv1d(8, 8, 3, 1, 1, 1, 1, False), nn.BatchNorm1d(8))\n",
    ),
    (
        "NN402",
        "import torch.nn as nn\n\nstem = nn.Sequential(\n    nn.Conv2d(\n        3,\n        32,\n        3,\n    ),\n    nn.BatchNorm2d(32),\n)\n",
        "import torch.nn as nn\n\nstem = nn.Sequential(\n    nn.Conv2d(\n        3,\n        32,\n        3, bias=False,\n    ),\n    nn.BatchNorm2d(32),\n)\n",
    ),
    (
        "NN402",
        (
            "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv = nn.Conv2d(16, 16, 3)\n        self.bn = nn.BatchNorm2d(16)\n        self.fc = nn.Linear(16, 16)\n"
            "        self.bn1 = nn.BatchNorm1d(16)\n\n    def forward(self, x):\n        x = self.bn(self.conv(x))\n"
            "        return self.bn1(self.fc(x.mean((2, 3))))\n"
        ),
        (
            "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv = nn.Conv2d(16, 16, 3, bias=False)\n        self.bn = nn.BatchNorm2d(16)\n        self.fc = nn.Linear(16, 16, bias=False)\n"
            "        self.bn1 = nn.BatchNorm1d(16)\n\n    def forward(self, x):\n        x = self.bn(self.conv(x))\n"
            "        return self.bn1(self.fc(x.mean((2, 3))))\n"
        ),
    ),
    (
        "NN408",
        (
            "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
            "    def forward(self, x):\n        x = F.dropout(x, p=0.5)\n        y = F.dropout2d(x, 0.1, inplace=False)\n"
            "        return F.dropout(\n            y,\n            0.2,\n        ) + F.alpha_dropout(F.dropout(x), 0.1)\n"
        ),
        (
            "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
            "    def forward(self, x):\n        x = F.dropout(x, p=0.5, training=self.training)\n"
            "        y = F.dropout2d(x, 0.1, inplace=False, training=self.training)\n"
            "        return F.dropout(\n            y,\n            0.2, training=self.training,\n"
            "        ) + F.alpha_dropout(F.dropout(x, training=self.training), 0.1, training=self.training)\n"
        ),
    ),
]


@pytest.mark.parametrize("code, source, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fix_gives_expected_code_that_parses_and_is_clean(code, source, expected):
    fixed = fix_all(source, code)
    assert fixed == expected
    ast.parse(fixed)
    assert [f.code for f in check_source(fixed, "case.py") if f.code == code] == []
