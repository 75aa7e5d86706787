"""The static pass never imports torch nor the code it checks."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

CHECKED = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from helpers import setup

    setup()


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)


    model = Net()
    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(torch.randn(4, 8)), torch.tensor([0, 1, 2, 0]))
    """
)

PROBE = textwrap.dedent(
    """\
    import json, sys
    from nnlint.cli import main
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    print(json.dumps({"rc": rc, "torch": "torch" in sys.modules, "helpers": "helpers" in sys.modules}))
    """
)


def _write_trap(folder: Path, module: str, marker: Path) -> None:
    """A module whose import leaves `marker` behind."""
    (folder / f"{module}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\ndef setup():\n    pass\n", encoding="utf-8"
    )


def _run(args, cwd: Path, pythonpath: Path) -> dict:
    """Run nnlint's main() in a fresh interpreter; return what it reports about sys.modules."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=str(cwd),
        env={**os.environ, "PYTHONPATH": str(pythonpath), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    *report, last = result.stdout.splitlines()
    state = json.loads(last)
    state["report"] = "\n".join(report)
    state["stderr"] = result.stderr
    return state


def test_static_pass_imports_neither_torch_nor_user_code(tmp_path):
    """`--no-graph` finds NN201 without importing torch (a trap package stands in for it) or the file."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(CHECKED, encoding="utf-8")
    markers = tmp_path / "markers"
    markers.mkdir()
    _write_trap(project, "helpers", markers / "helpers")
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(
        f"open({str(markers / 'torch')!r}, 'w').write('imported')\n", encoding="utf-8"
    )

    state = _run(["--select", "NN", "--no-graph", "--format", "text", "train.py"], project, fake)

    assert state["rc"] == 1, state
    assert "train.py:" in state["report"] and "NN201" in state["report"], state
    assert not state["torch"], "the static pass imported torch"
    assert not state["helpers"], "the static pass imported the checked file's imports"
    assert sorted(path.name for path in markers.iterdir()) == [], "code was executed while checking"


def test_checked_file_top_level_never_runs(tmp_path):
    """A file whose top level writes a marker is parsed, not executed: the marker never appears."""
    marker = tmp_path / "executed"
    checked = tmp_path / "evil.py"
    checked.write_text(
        f"import os\nopen({str(marker)!r}, 'w').write('ran')\nos.system('touch ' + {str(marker)!r})\n",
        encoding="utf-8",
    )
    (tmp_path / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\n", encoding="utf-8")

    state = _run(["--no-graph", "--format", "text", str(tmp_path)], tmp_path, tmp_path / "nothing")

    assert state["rc"] == 0, state
    assert not marker.exists(), "nnlint executed the checked file"
