"""Saving and restoring what the probe changes: weights, buffers, gradients, train/eval flags, optimizer state, device."""

from __future__ import annotations

import copy
from typing import Optional

import torch
from torch import nn


class Snapshot:
    """A copy of a model's (and optimizer's) state; `restore()` puts it back in place, keeping tensor identities."""

    def __init__(self, model: nn.Module, optimizer: Optional[torch.optim.Optimizer] = None) -> None:
        self.model, self.optimizer = model, optimizer
        self.params = [
            (p, p.detach().clone(), None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()
        ]
        self.buffers = [(b, b.detach().clone()) for b in model.buffers()]
        self.modes = [(m, m.training) for m in model.modules()]
        self.device = next((p.device for p in model.parameters()), None)
        self.optimizer_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None

    def restore_weights(self) -> None:
        """Weights and buffers as they were; gradients cleared."""
        with torch.no_grad():
            for param, saved, _ in self.params:
                param.copy_(saved)
                param.grad = None
            for buffer, saved in self.buffers:
                buffer.copy_(saved)
        if self.optimizer is not None and self.optimizer_state is not None:
            self.optimizer.load_state_dict(copy.deepcopy(self.optimizer_state))

    def restore(self) -> None:
        """Everything as it was before the probe, on the original device."""
        if self.device is not None:
            self.model.to(self.device)
        self.restore_weights()
        for param, _, grad in self.params:
            param.grad = grad
        for module, training in self.modes:
            module.training = training
