"""Gradient-mode switches (`no_grad`, `enable_grad`...) and autograd entry points, by name. No torch import."""

from __future__ import annotations

# Contexts and decorators that turn autograd off.
NO_GRAD_CONTEXTS = frozenset(
    {
        "torch.autograd.grad_mode.inference_mode",
        "torch.autograd.grad_mode.no_grad",
        "torch.autograd.inference_mode",
        "torch.autograd.no_grad",
        "torch.inference_mode",
        "torch.no_grad",
    }
)
# `set_grad_enabled(flag)`: on or off by its argument.
SET_GRAD_ENABLED = frozenset(
    {"torch.autograd.grad_mode.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.set_grad_enabled"}
)
# Contexts and decorators that turn autograd back on.
ENABLE_GRAD = frozenset({"torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad", "torch.enable_grad"})
# The functional backward pass (`loss.backward()` is a method and needs no name).
AUTOGRAD_BACKWARD = frozenset({"torch.autograd.backward"})
# Gradients returned rather than accumulated into `.grad`.
AUTOGRAD_GRAD = frozenset({"torch.autograd.grad"})
