"""Training-loop vocabulary: clipping, AMP scalers, optimizers, schedulers, frameworks. No torch import."""

from __future__ import annotations

# Gradient clipping, under every path it is importable from.
CLIP_FUNCTIONS = frozenset(
    {
        "torch.nn.utils.clip_grad.clip_grad_norm",
        "torch.nn.utils.clip_grad.clip_grad_norm_",
        "torch.nn.utils.clip_grad.clip_grad_value_",
        "torch.nn.utils.clip_grad_norm",
        "torch.nn.utils.clip_grad_norm_",
        "torch.nn.utils.clip_grad_value_",
    }
)
# AMP gradient scalers: `scaler.step(optimizer)` is the optimizer step, `scaler.unscale_` precedes clipping.
GRAD_SCALERS = frozenset(
    {
        "torch.GradScaler",
        "torch.amp.GradScaler",
        "torch.amp.grad_scaler.GradScaler",
        "torch.cpu.amp.GradScaler",
        "torch.cuda.amp.GradScaler",
        "torch.cuda.amp.grad_scaler.GradScaler",
    }
)
# The optimizers' package: a capitalised name under it is an optimizer, except in the two below.
OPTIM = "torch.optim."
# Learning-rate schedulers (SWALR lives beside the SWA helpers, which are not optimizers).
LR_SCHEDULERS = ("torch.optim.lr_scheduler.", "torch.optim.swa_utils.SWALR")
# Packages under torch.optim that hold no optimizer.
NOT_OPTIMIZERS = ("torch.optim.lr_scheduler", "torch.optim.swa_utils")

# Top-level packages that mark a file as torch training code (third-party names: not resolved against torch).
TORCH_FRAMEWORKS = frozenset(
    {
        "accelerate",
        "deepspeed",
        "lightning",
        "pytorch_lightning",
        "timm",
        "torch",
        "torchaudio",
        "torchtext",
        "torchvision",
        "transformers",
    }
)
# Top-level packages of other frameworks: a file importing one is not linted as a torch training loop.
FOREIGN_FRAMEWORKS = frozenset({"flax", "jax", "keras", "mindspore", "mxnet", "paddle", "tensorflow"})
