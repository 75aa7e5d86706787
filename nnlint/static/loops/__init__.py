"""A small model of training and evaluation loops, shared by the training-loop rules (NN403–NN410).

One walk per function (and the module body) lists, in execution order, the calls that matter to a
training loop: `backward`, optimizer/scheduler/scaler steps, gradient clearing and clipping, mode
switches (`.eval()`/`.train()`), model calls, and calls to other functions of the same file, whose
own lists are spliced in at the call. Each event carries the path of constructs around it (loops,
`if` branches, calls, `no_grad` blocks), so a rule can ask, for any loop, what one iteration does,
what is conditional in it and what happens in a nested loop. Unknown things stay unknown: receivers
are recognised by construction first and by their name only when the construction is not visible.

Modules: events (kinds, Frame, Event, Unit), names (torch names and naming habits), syntax, queries,
roles, index (one pass over the file's nodes), walker, model (LoopModel, loop_model), eval_sites
(NN405/NN407), rule (LoopRule). Rules import from this package; never imports torch.
"""

from nnlint.static.loops.eval_sites import EvalSite, call_sites, eval_sites, is_lightning_hook, may_have_eval_sites
from nnlint.static.loops.events import (
    AUTOGRAD_GRAD,
    BACKWARD,
    CALL,
    CLEAR_KINDS,
    CLIP,
    EVAL,
    MAYBE_CLEAR,
    MAYBE_MODE,
    MAYBE_MODEL_CALL,
    MODE_KINDS,
    MODEL_CALL,
    SCHEDULER_STEP,
    STEP,
    TRAIN,
    UNSCALE,
    ZERO_GRAD,
    Event,
    Frame,
    Function,
    Loop,
    Unit,
)
from nnlint.static.loops.model import LoopModel, loop_model
from nnlint.static.loops.queries import (
    accumulation_condition,
    describe,
    exclusive,
    grad_disabled_at,
    in_no_grad,
    is_eval_name,
    is_test_file,
    is_val_loader,
    place,
)
from nnlint.static.loops.rule import LoopRule
from nnlint.static.loops.syntax import dotted, last_name, text_of

__all__ = [
    "AUTOGRAD_GRAD",
    "BACKWARD",
    "CALL",
    "CLEAR_KINDS",
    "CLIP",
    "EVAL",
    "MAYBE_CLEAR",
    "MAYBE_MODE",
    "MODE_KINDS",
    "MAYBE_MODEL_CALL",
    "MODEL_CALL",
    "SCHEDULER_STEP",
    "STEP",
    "TRAIN",
    "UNSCALE",
    "ZERO_GRAD",
    "EvalSite",
    "Event",
    "Frame",
    "Function",
    "Loop",
    "LoopModel",
    "LoopRule",
    "Unit",
    "accumulation_condition",
    "call_sites",
    "describe",
    "dotted",
    "eval_sites",
    "exclusive",
    "grad_disabled_at",
    "in_no_grad",
    "is_eval_name",
    "is_lightning_hook",
    "is_test_file",
    "is_val_loader",
    "last_name",
    "loop_model",
    "may_have_eval_sites",
    "place",
    "text_of",
]
