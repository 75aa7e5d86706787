"""NN405: an evaluation routine runs the model without switching it to eval mode."""

from __future__ import annotations

from typing import List, Tuple

import libcst as cst

from nnlint.static import calls, loops
from nnlint.static.loops import MAYBE_MODE, MODE_KINDS, TRAIN, EvalSite, LoopRule
from nnlint.static.semantics import FileSemantics
from nnlint.types import Severity


class MissingEvalMode(LoopRule):
    """Evaluation code calls the model while it may still be in training mode (rules/NN405.md)."""

    code = "NN405"
    name = "missing-eval-mode"
    severity = Severity.WARNING
    needles = ("val", "test", "dev_")

    def may_apply(self, semantics: FileSemantics) -> bool:
        return loops.may_have_eval_sites(semantics)

    def check_model(self, model: loops.LoopModel) -> None:
        for site in loops.eval_sites(model):
            if not self._prepared(model, site):
                self.report(site.model_calls[0].node, self._message(site))

    def _prepared(self, model: loops.LoopModel, site: EvalSite) -> bool:
        first = site.model_calls[0]
        if site.loop is None:
            events = site.unit.events
            if any(e.kind in MODE_KINDS or e.kind == MAYBE_MODE for e in events[: events.index(first)]):
                return True  # an explicit choice, `.eval()` or `.train()` (MC dropout), or a helper we cannot see
        else:
            mode = model.mode_before(first.node)
            if mode is not None:
                return mode.kind != TRAIN
        if site.trains or not isinstance(site.function, cst.FunctionDef):
            return False  # script code: nobody else sets the mode
        callers = [(model, call) for call in loops.call_sites(model, site.function)]
        if not callers:
            callers = self._project_callers(site.function)
        if not callers:
            return True  # called from code that is not checked: the caller may switch modes
        for caller, call in callers:
            mode = caller.mode_before(call)
            if mode is not None and _mode_set_by(caller, mode) != TRAIN:
                return True
        return False

    def _project_callers(self, function: cst.FunctionDef) -> List[Tuple[loops.LoopModel, cst.Call]]:
        """Calls of the evaluation routine in the project's other files (`validate(model, loader)` in train.py)."""
        semantics = self.context.semantics
        positional = [*function.params.posonly_params, *function.params.params]
        if semantics.class_of(function) is not None:
            positional = positional[1:]  # self
        if not positional:
            return []
        sites = calls.call_sites(semantics, function, positional[0]) or []
        return [(loops.loop_model(site.semantics), site.call) for site in sites if site.semantics is not semantics]

    def _message(self, site: EvalSite) -> str:
        semantics = self.context.semantics
        call = loops.describe(semantics, site.model_calls[0].node)
        if site.loop is None:
            where = f"`{site.function.name.value}()` evaluates with `{call}`"  # type: ignore[union-attr]
        else:
            where = f"This loop over `{loops.describe(semantics, site.loop.iter)}` calls `{call}`"  # type: ignore[union-attr]
        receiver = site.model_calls[0].receiver
        return (
            f"{where} but nothing switches the model to eval mode first: dropout stays active and BatchNorm "
            "normalises with the batch's own statistics (and overwrites its running averages with validation "
            "data), so the metrics are noisy, too pessimistic, and depend on the batch size. Call "
            f"`{receiver}.eval()` before evaluating (and `{receiver}.train()` before training again)."
        )


def _mode_set_by(model: loops.LoopModel, event: loops.Event) -> str:
    """The mode an event leaves the model in; for a call of the user's own helper (`train_one_epoch(model, ...)`,
    maybe in another file), the last mode that helper sets, else "may switch modes"."""
    if event.kind != MAYBE_MODE or not isinstance(event.node, cst.Call):
        return event.kind
    found = calls.function_called(model.semantics, event.node)
    if found is None:
        return event.kind
    helper_semantics, helper = found
    modes = [
        e for e in loops.loop_model(helper_semantics).events(helper) if e.kind in MODE_KINDS or e.kind == MAYBE_MODE
    ]
    return modes[-1].kind if modes else event.kind
