"""NN407: an evaluation routine runs the model with autograd recording."""

from __future__ import annotations

import libcst as cst

from nnlint.static import loops
from nnlint.static.loops import EvalSite, LoopRule
from nnlint.static.semantics import FileSemantics
from nnlint.types import Severity


class MissingNoGradInEval(LoopRule):
    """Evaluation runs the model outside `torch.no_grad()`, building graphs nobody uses (rules/NN407.md)."""

    code = "NN407"
    name = "missing-no-grad-in-eval"
    severity = Severity.INFO
    needles = ("val", "test", "dev_")

    def may_apply(self, semantics: FileSemantics) -> bool:
        return loops.may_have_eval_sites(semantics)

    def check_model(self, model: loops.LoopModel) -> None:
        for site in loops.eval_sites(model):
            recorded = [call for call in site.model_calls if not loops.in_no_grad(call)]
            if recorded and not self._called_without_grad(model, site):
                self.report(recorded[0].node, self._message(site, recorded[0]))

    def _called_without_grad(self, model: loops.LoopModel, site: EvalSite) -> bool:
        if site.trains or not isinstance(site.function, cst.FunctionDef):
            return False  # script code
        callers = loops.call_sites(model, site.function)
        if not callers:
            return True  # called from code that is not checked: the caller may disable gradients
        return any(loops.grad_disabled_at(model.semantics, call) for call in callers)

    def _message(self, site: EvalSite, call: loops.Event) -> str:
        semantics = self.context.semantics
        text = loops.describe(semantics, call.node)
        if site.loop is None:
            where = f"`{site.function.name.value}()` runs `{text}`"  # type: ignore[union-attr]
        else:
            where = f"This loop over `{loops.describe(semantics, site.loop.iter)}` runs `{text}`"  # type: ignore[union-attr]
        return (
            f"{where} with autograd recording: every forward pass keeps its activations for a backward pass "
            "that never comes, so evaluation uses several times the memory it needs (a large eval batch can "
            "run out of memory) and runs slower. Wrap the evaluation in `with torch.no_grad():` (or "
            "`torch.inference_mode()`), or decorate the function with `@torch.no_grad()`."
        )
