"""`NNLintCallback`: `nnlint.watch` in a Lightning Trainer (`lightning` or `pytorch_lightning`, whichever is installed).

    trainer = L.Trainer(callbacks=[NNLintCallback(loss=nn.CrossEntropyLoss())])

The watch starts with the first optimizer of the run, gets each training step's loss from `training_step`'s
return value, and closes (writing the plot, if asked for) when training ends. Findings: `callback.findings`.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

try:
    from lightning.pytorch import Callback
except ImportError:
    try:
        from pytorch_lightning import Callback
    except ImportError:
        raise ImportError(
            "nnlint.integrations.lightning needs Lightning: pip install lightning (or pytorch-lightning)"
        ) from None

from torch import nn

from nnlint.types import Finding
from nnlint.watch.handle import Watch

_LOSS_ATTRIBUTES = ("criterion", "loss_fn", "loss_func", "loss")


class NNLintCallback(Callback):
    """Runs `nnlint.watch` over `trainer.fit`; keywords are `nnlint.watch`'s (every, loss, task, options, ...)."""

    def __init__(self, **watch_options: Any) -> None:
        super().__init__()
        self.watch_options = watch_options
        self.watch: Optional[Watch] = None

    @property
    def findings(self) -> List[Finding]:
        """The findings so far (rank 0 holds every rank's)."""
        return self.watch.findings if self.watch is not None else []

    def on_train_start(self, trainer: Any, pl_module: nn.Module) -> None:
        options = dict(self.watch_options)
        if options.get("loss") is None:  # the module's own loss, when it keeps one as an attribute
            options["loss"] = next(
                (
                    getattr(pl_module, name)
                    for name in _LOSS_ATTRIBUTES
                    if isinstance(getattr(pl_module, name, None), nn.Module)
                ),
                None,
            )
        optimizers = getattr(trainer, "optimizers", None) or [None]
        self.watch = Watch(pl_module, optimizers[0], **options)

    def on_train_batch_end(self, trainer: Any, pl_module: nn.Module, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.watch is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        self.watch.step(loss)

    def on_train_end(self, trainer: Any, pl_module: nn.Module) -> None:
        if self.watch is not None:
            self.watch.close()
