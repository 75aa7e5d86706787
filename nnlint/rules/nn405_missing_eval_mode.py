"""NN405: an evaluation routine runs the model without switching it to eval mode."""

from __future__ import annotations

import libcst as cst

from nnlint.static import loops
from nnlint.static.loops import MAYBE_MODE, MODE_KINDS, TRAIN, EvalSite, LoopRule
from nnlint.types import Severity


class MissingEvalMode(LoopRule):
    """Evaluation code calls the model while it may still be in training mode (rules/NN405.md)."""

    code = "NN405"
    name = "missing-eval-mode"
    severity = Severity.WARNING
    needles = ("val", "test", "dev_")

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
        callers = loops.call_sites(model, site.function)
        if not callers:
            return True  # called from code that is not checked: the caller may switch modes
        for call in callers:
            mode = model.mode_before(call)
            if mode is not None and mode.kind != TRAIN:
                return True
        return False

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
