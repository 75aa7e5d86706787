"""The vocabulary of the loop model: torch names it matches, and the naming habits it reads receivers by (no imports).

All in one place so that the torch names can later come from the project's torch vocabulary.
"""

from __future__ import annotations

import re

CLIP_FUNCTIONS = frozenset(
    {
        "torch.nn.utils.clip_grad_norm_",
        "torch.nn.utils.clip_grad_value_",
        "torch.nn.utils.clip_grad_norm",
        "torch.nn.utils.clip_grad_value",
        "torch.nn.utils.clip_grad.clip_grad_norm_",
        "torch.nn.utils.clip_grad.clip_grad_value_",
        "torch.nn.utils.clip_grad.clip_grad_norm",
    }
)
GRAD_SCALERS = frozenset(
    {
        "torch.cuda.amp.GradScaler",
        "torch.cuda.amp.grad_scaler.GradScaler",
        "torch.amp.GradScaler",
        "torch.amp.grad_scaler.GradScaler",
        "torch.cpu.amp.GradScaler",
        "torch.GradScaler",
    }
)
NO_GRAD_CONTEXTS = frozenset(
    {
        "torch.no_grad",
        "torch.inference_mode",
        "torch.autograd.no_grad",
        "torch.autograd.inference_mode",
        "torch.autograd.grad_mode.no_grad",
        "torch.autograd.grad_mode.inference_mode",
    }
)
SET_GRAD_ENABLED = frozenset(
    {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
)
ENABLE_GRAD = frozenset({"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"})
# Top-level packages whose import makes a file a PyTorch file, and those that make it someone else's.
FOREIGN_FRAMEWORKS = frozenset({"tensorflow", "keras", "jax", "flax", "paddle", "mindspore", "mxnet"})
TORCH_FRAMEWORKS = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "lightning",
        "pytorch_lightning",
        "accelerate",
        "transformers",
        "timm",
        "deepspeed",
    }
)

OPTIMIZER_NAME = re.compile(
    r"^(?:opt|optim|optimizer|optimiser)(?:_\w+|[A-Z]\w*|\d+)?$|^\w+_(?:opt|optim|optimizer|optimiser)$|^[a-z]\w*(?:Optimizer|Optimiser)$"
)
MODEL_NAME = re.compile(r"(?:^|_)models?(?:$|_)|^(?:net|network|classifier)(?:$|_)|^net[A-Z]\w*$|^[a-z]+Model$")
EVAL_NAME = re.compile(
    r"^(?:run_|do_|_)?(?:val|valid|validate|validation|eval|evaluate|evaluation|test)"
    r"(?:_one)?(?:_(?:epoch|model|loop|net|network|on_\w+))?$"
    r"|^(?:evaluate|validate|evaluation|validation)_\w+$"
    r"|^\w+_(?:evaluate|validate|validation|evaluation|eval)$"
)
VAL_LOADER = re.compile(
    r"^(?:val|valid|validation|eval|evaluation|test|dev)_?(?:data|set)?_?(?:loader|dataloader|dl|iter|batches)s?$", re.I
)
ACCUMULATION_TEST = re.compile(r"%|accum|sync_gradients|update_freq|should_step|do_step|is_last", re.I)
CLEARING_NAME = re.compile(r"zero_grad|clear_grad|reset_grad|zero_gradients|set_grads_to_none", re.I)
MODE_NAME = re.compile(r"(?:^|_)(?:train|training|eval|evaluation|mode)(?:_|$)")
WRAPPER_BACKWARD = re.compile(r"accelerator|fabric|engine|booster|deepspeed|^self$|^trainer$", re.I)
