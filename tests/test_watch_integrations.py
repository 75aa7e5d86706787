"""The optional integrations of `nnlint.watch`: each imports its framework only, and is tested only where installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.torch
ROOT = Path(__file__).resolve().parent.parent


class Classifier(nn.Module):
    """A Hugging Face-style classifier: returns `loss` and `logits` when given `labels`."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(8, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, inputs, labels=None):
        logits = self.out(torch.relu(self.hidden(inputs)))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def test_hugging_face_callback_follows_the_trainer_calls():
    pytest.importorskip("transformers")
    from nnlint.integrations.huggingface import NNLintCallback

    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.Adam(model.out.parameters(), 1e-3)  # `hidden` left out
    callback = NNLintCallback(every=5, echo=False)
    callback.on_train_begin(None, None, None, model=model, optimizer=optimizer)
    for _ in range(6):  # what Trainer.train does around each step
        x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
        loss = model(x, labels=y)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        callback.on_step_end(None, None, None)
    callback.on_train_end(None, None, None)
    assert sorted({f.code for f in callback.findings}) == ["NN411"]
    assert callback.watch is not None and callback.watch.judge.curve  # the model's own loss made the curve


def test_lightning_callback():
    try:
        import lightning.pytorch as pl
    except ImportError:
        pl = pytest.importorskip("pytorch_lightning")
    from nnlint.integrations.lightning import NNLintCallback

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
            self.criterion = nn.CrossEntropyLoss()

        def training_step(self, batch, batch_idx):
            x, y = batch
            return self.criterion(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.net[2].parameters(), 1e-3)  # the first layer left out

    data = torch.utils.data.TensorDataset(torch.randn(128, 8), torch.randint(0, 4, (128,)))
    callback = NNLintCallback(every=2, echo=False)
    trainer = pl.Trainer(
        max_steps=4, callbacks=[callback], logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    trainer.fit(Module(), torch.utils.data.DataLoader(data, batch_size=32))
    assert "NN411" in {f.code for f in callback.findings}


def test_each_integration_imports_without_the_others():
    """Importing one integration imports neither other framework, and a missing framework is a clear ImportError."""
    script = textwrap.dedent(
        """
        import importlib, sys
        import nnlint.watch.handle
        # before any framework is imported: Lightning itself imports matplotlib where it is installed
        print("tensorboard" in sys.modules, "matplotlib" in sys.modules)
        for name, framework in (("huggingface", "transformers"), ("lightning", "lightning")):
            try:
                importlib.import_module("nnlint.integrations." + name)
            except ImportError as error:
                assert "pip install" in str(error), error
        assert "transformers" not in sys.modules or "nnlint.integrations.huggingface" in sys.modules
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]  # the watch never imports tensorboard or matplotlib itself


def test_the_watch_is_not_imported_by_import_nnlint():
    script = "import nnlint, sys; assert 'torch' not in sys.modules and 'nnlint.watch' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def _plugin_installed() -> bool:
    from importlib.metadata import entry_points

    try:
        plugins = entry_points(group="pytest11")
    except TypeError:  # Python 3.9: no selection by group
        plugins = entry_points().get("pytest11", [])  # type: ignore[assignment]
    return any(plugin.name == "nnlint" for plugin in plugins)


def test_nnlint_probe_fixture(tmp_path):
    (tmp_path / "test_model.py").write_text(
        textwrap.dedent(
            """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(8, 32)
                self.out = nn.Linear(32, 3)

            def forward(self, x):
                return self.out(torch.relu(self.hidden(x)))


        def test_healthy(nnlint_probe):
            report = nnlint_probe(Net(), torch.randn(16, 8), task="multiclass", select=["NN2", "NN3"])
            assert report.ok


        def test_frozen(nnlint_probe):
            model = Net()
            optimizer = torch.optim.Adam(model.out.parameters(), lr=1e-3)
            nnlint_probe(model, torch.randn(16, 8), task="multiclass", optimizer=optimizer, select=["NN411"])
        """
        )
    )
    # Installed, nnlint registers the plugin by its entry point; `-p` on top of that is a double registration.
    load_plugin = [] if _plugin_installed() else ["-p", "nnlint.pytest_plugin"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *load_plugin, "test_model.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "NN411" in result.stdout


def test_the_fixture_is_registered_as_a_pytest_plugin():
    try:
        import tomllib
    except ImportError:
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["pytest11"] == {"nnlint": "nnlint.pytest_plugin"}
