"""`NNLintCallback`: `nnlint.watch` in a Hugging Face `Trainer` (needs transformers).

    trainer = Trainer(model, args, train_dataset=..., callbacks=[NNLintCallback()])

The watch starts with the Trainer's model and optimizer; a sampled step's loss is the model's own `output.loss`
(the Trainer does not hand callbacks the loss tensor) and its targets the `labels` passed to forward, which
give the chance level of a classifier. Findings: `callback.findings`.
"""

from __future__ import annotations

from typing import Any, List, Optional

try:
    from transformers import TrainerCallback
except ImportError:
    raise ImportError("nnlint.integrations.huggingface needs transformers: pip install transformers") from None

from nnlint.types import Finding
from nnlint.watch.handle import Watch


class NNLintCallback(TrainerCallback):
    """Runs `nnlint.watch` over `trainer.train()`; keywords are `nnlint.watch`'s (every, loss, task, options, ...)."""

    def __init__(self, **watch_options: Any) -> None:
        self.watch_options = watch_options
        self.watch: Optional[Watch] = None

    @property
    def findings(self) -> List[Finding]:
        """The findings so far (rank 0 holds every rank's)."""
        return self.watch.findings if self.watch is not None else []

    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, optimizer: Any = None, **kwargs: Any
    ):
        if model is not None:
            self.watch = Watch(model, optimizer, **self.watch_options)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.watch is not None:
            self.watch.step(None)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.watch is not None:
            self.watch.close()
