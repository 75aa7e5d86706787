"""NN406: a training loop evaluates (switching to eval mode) and never switches back to training mode."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple, Union, cast

import libcst as cst

from nnlint.static import loops
from nnlint.static.loops import (
    BACKWARD,
    EVAL,
    MAYBE_MODE,
    MAYBE_MODEL_CALL,
    MODEL_CALL,
    STEP,
    TRAIN,
    Event,
    Frame,
    LoopRule,
    Unit,
)
from nnlint.static.loops.names import HELD_OUT_TENSOR
from nnlint.static.semantics import argument
from nnlint.types import Severity

_SHADOW_MODEL = re.compile(r"ema|swa|teacher|averag|shadow|target", re.I)


class MissingTrainMode(LoopRule):
    """Training continues in eval mode after an evaluation inside the training loop (rules/NN406.md)."""

    code = "NN406"
    name = "missing-train-mode"
    severity = Severity.WARNING
    needles = ("eval(", "train(False", "train(mode=False")

    def check_function(self, model: loops.LoopModel, function: loops.Function) -> None:
        events = model.events(function)
        for index, event in enumerate(events):
            if event.kind == EVAL:
                self._check(function, events, index, event)

    def _check(self, function: loops.Function, events: List[Event], index: int, event: Event) -> None:
        path = event.path
        first_call = next((i for i, frame in enumerate(path) if frame.kind == "call"), len(path))
        owned_loops = [
            cast(Union[cst.For, cst.While], frame.node) for frame in path[:first_call] if frame.kind == "loop"
        ]
        if not owned_loops or _SHADOW_MODEL.search(event.receiver):
            return
        routine = next(
            (f for f in path[first_call:] if f.kind == "call" and loops.is_eval_name(f.owner.name.value)),  # type: ignore[union-attr]
            None,
        )
        if routine is None and first_call < len(path):
            routine = self._helper_leaving_eval(path, first_call, event)
            if routine is None:
                return
        elif routine is None:
            if not _validation_follows(loops.loop_model(self.context.semantics), events[index + 1 :]):
                return
        else:
            if any(f.kind == "loop" for f in path[path.index(routine) + 1 :]):
                return  # `m.eval()` over submodules (frozen BatchNorm), not the model
            if self._shadow_argument(routine, event):
                return
        for loop in reversed(owned_loops):
            unit = Unit(function, loop, events)
            if unit.of(BACKWARD, STEP):
                break
        else:
            return
        if unit.of(TRAIN) or any("train" in e.receiver.lower() for e in unit.of(MAYBE_MODE)):
            return
        if _at_epoch_end(unit, path):
            return  # `if i == len(loader) - 1: validate()`: the next epoch's `model.train()` comes right after
        anchor = routine.node if routine is not None else event.node
        outer = next(
            (
                e
                for e in events
                if e.kind == TRAIN
                and e not in unit.events
                and any(f.kind == "loop" and any(f.node is loop for loop in owned_loops) for f in e.path)
            ),
            None,
        )  # `model.train()` at the start of each epoch, while the evaluation runs inside the batch loop
        self.report_once(anchor, self._message(routine, event, unit, outer))

    def _helper_leaving_eval(self, path: Tuple[Frame, ...], first_call: int, event: Event) -> Optional[Frame]:
        """A same-file helper, whatever its name (`log_samples`, `check_accuracy`), that switches the trained model
        to eval mode itself: `.eval()` directly in its body, on the model the loop trains."""
        routine = path[first_call]
        rest = path[first_call + 1 :]
        if any(frame.kind in ("call", "loop") for frame in rest):
            return None  # deeper helpers, or `m.eval()` over submodules
        callee = routine.owner
        if not isinstance(callee, cst.FunctionDef) or not isinstance(routine.node, cst.Call):
            return None
        semantics = self.context.semantics
        receiver = event.receiver
        names = [param.name.value for param in callee.params.params]
        if names and names[0] == "self":
            names = names[1:]
        spelled: Optional[cst.BaseExpression] = None
        if receiver in names:
            spelled = argument(routine.node, names.index(receiver), receiver)
            if spelled is None:
                return None
        elif receiver.startswith("self.") and loops.text_of(routine.node.func).startswith("self."):
            spelled = cast(cst.Call, event.node).func
            spelled = spelled.value if isinstance(spelled, cst.Attribute) else None
        if spelled is None or _SHADOW_MODEL.search(loops.text_of(spelled)):
            return None
        model = loops.loop_model(semantics)
        return routine if model.is_model_callee(spelled) else None

    def _shadow_argument(self, routine: Frame, event: Event) -> bool:
        """The routine puts its argument in eval mode, and the caller passes an EMA/teacher copy."""
        callee = routine.owner
        if not isinstance(callee, cst.FunctionDef) or not isinstance(routine.node, cst.Call):
            return False
        names = [param.name.value for param in callee.params.params]
        if names and names[0] == "self":
            names = names[1:]
        receiver = event.receiver
        if receiver not in names:
            return False
        value = argument(routine.node, names.index(receiver), receiver)
        if value is None:
            return True  # cannot tell what is passed: stay silent
        return bool(_SHADOW_MODEL.search(self.context.semantics.module.code_for_node(value)))

    def _message(self, routine: Optional[Frame], event: Event, unit: Unit, outer: Optional[Event]) -> str:
        semantics = self.context.semantics
        switch = f"`{loops.describe(semantics, event.node)}` (line {semantics.line(event.node)})"
        if routine is not None:
            what = f"`{loops.describe(semantics, routine.node)}` switches the model to eval mode with {switch}"
        else:
            what = f"{switch} switches the model to eval mode for validation"
        if outer is not None:
            return (
                f"{what} inside the loop over batches, and `{loops.describe(semantics, outer.node)}` (line "
                f"{semantics.line(outer.node)}) runs only outside this loop: after each evaluation the rest of the "
                "epoch trains with dropout off and BatchNorm frozen on its running statistics, so the model trains "
                "differently (usually worse) than intended. Call `.train()` right after the evaluation (or at the "
                "end of the evaluation routine)."
            )
        return (
            f"{what}, and nothing in this training loop switches it back with `.train()`: after the first "
            "evaluation, training runs with dropout off and BatchNorm frozen on its running statistics, so the "
            "model trains differently (usually worse) from then on. Call `model.train()` at the start of each "
            "epoch (or at the end of the evaluation routine)."
        )


def _at_epoch_end(unit: Unit, path: Tuple[Frame, ...]) -> bool:
    """The evaluation runs under a test on the loader's length (the last batch of the epoch)."""
    for frame in unit.tail_of(path):
        if frame.kind == "call":
            return False
        if frame.kind == "cond" and isinstance(frame.owner, cst.If) and "len(" in loops.text_of(frame.owner.test):
            return True
    return False


def _validation_follows(model: loops.LoopModel, events) -> bool:
    """A model call on validation data comes after an inline `.eval()`: in a loop over a validation loader, or
    on held-out tensors (`model(test_x)`, `model(val_inputs)`)."""
    for event in events:
        if event.kind not in (MODEL_CALL, MAYBE_MODEL_CALL) or not model.runs_model(event):
            continue
        if any(
            frame.kind == "loop" and isinstance(frame.node, cst.For) and loops.is_val_loader(frame.node.iter)
            for frame in event.path
        ):
            return True
        call = event.node
        first = call.args[0].value if isinstance(call, cst.Call) and call.args else None
        if isinstance(first, cst.Name) and HELD_OUT_TENSOR.match(first.value):
            return True
    return False
