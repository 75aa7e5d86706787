"""The vocabulary of the loop model: the torch names it matches (from `static.torch_api`) and the naming habits it
reads receivers by. No torch import."""

from __future__ import annotations

import re

# The torch names come from the project's one torch vocabulary (tested against the installed torch).
from nnlint.static.torch_api import (
    CLIP_FUNCTIONS as CLIP_FUNCTIONS,
)
from nnlint.static.torch_api import (
    ENABLE_GRAD as ENABLE_GRAD,
)
from nnlint.static.torch_api import (
    FOREIGN_FRAMEWORKS as FOREIGN_FRAMEWORKS,
)
from nnlint.static.torch_api import (
    GRAD_SCALERS as GRAD_SCALERS,
)
from nnlint.static.torch_api import (
    NO_GRAD_CONTEXTS as NO_GRAD_CONTEXTS,
)
from nnlint.static.torch_api import (
    SET_GRAD_ENABLED as SET_GRAD_ENABLED,
)
from nnlint.static.torch_api import (
    TORCH_FRAMEWORKS as TORCH_FRAMEWORKS,
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
# Held-out tensors fed straight to the model (`model(test_x)`, `model(val_inputs)`).
HELD_OUT_TENSOR = re.compile(
    r"^(?:val|valid|validation|test|dev|eval)_?(?:x|inputs?|data|images?|imgs?|features?|samples?|batch|seqs?)$", re.I
)
ACCUMULATION_TEST = re.compile(r"%|accum|sync_gradients|update_freq|should_step|do_step|is_last", re.I)
# builtins a call of which never runs a model: not worth an event
NOT_MODULE_CALLS = frozenset(
    "abs all any bool dict divmod enumerate float format frozenset getattr hasattr hash id int isinstance "
    "issubclass iter len list map max min next object print range repr reversed round set setattr slice sorted "
    "str sum super tuple type vars zip".split()
)
CLEARING_NAME = re.compile(r"zero_grad|clear_grad|reset_grad|zero_gradients|set_grads_to_none", re.I)
MODE_NAME = re.compile(r"(?:^|_)(?:train|training|eval|evaluation|mode)(?:_|$)")
WRAPPER_BACKWARD = re.compile(r"accelerator|fabric|engine|booster|deepspeed|^self$|^trainer$", re.I)
