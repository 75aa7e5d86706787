"""NN312: a trainable parameter gets no gradient (or only zeros) from the loss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Tuple

from nnlint.probe.texts import at
from nnlint.rule import Need, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class ParameterWithoutGradient(ProbeRule):
    """A trainable parameter gets no gradient, or only zeros, from the loss; it never trains (rules/NN312.md)."""

    code = "NN312"
    name = "parameter-without-gradient"
    severity = Severity.ERROR
    needs = frozenset({Need.GRADIENT_CUTS})

    def check_probe(self, ctx: ProbeContext) -> None:
        """One finding per module: its parameters without a gradient and why, or with an all-zero gradient."""
        facts = ctx.facts
        missing: Dict[Tuple[str, str], List] = {}
        zero: Dict[str, List] = {}
        for param in facts.params:
            if not param.had_grad:
                missing.setdefault((param.module, param.why_no_grad or ""), []).append(param)
            elif not param.nonzero and param.finite and facts.nonfinite is None:
                zero.setdefault(param.module, []).append(param)
        steps = facts.optimizer_steps + 1
        for (_module, why), params in missing.items():
            names = ", ".join(f"`{p.name}`" for p in params)
            cut = at(params[0].cut_where)
            self.report(
                ctx.where_module(params[0].name),
                f"{names} get{'s' if len(params) == 1 else ''} no gradient in {steps} training step{'s' if steps != 1 else ''}: "
                f"{why}{cut}. {_advice(why)}",
            )
        for params in zero.values():
            names = ", ".join(f"`{p.name}`" for p in params)
            self.report(
                ctx.where_module(params[0].name),
                f"The gradient of {names} is exactly zero at every one of {steps} training steps, so "
                f"{'it' if len(params) == 1 else 'they'} never change{'s' if len(params) == 1 else ''}. Either the layer's "
                "input is all zeros (dead ReLUs or a zero mask before it) or everything after it multiplies its output "
                "by zero (dead ReLUs after it, a mask, a constant output). Find what zeroes the signal around this layer.",
            )


def _advice(why: str) -> str:
    if "never ran" in why or "never uses" in why:
        return "Call it in forward, delete it, or freeze it with `requires_grad_(False)` if it is meant to stay fixed."
    if "gradients are disabled" in why:
        return "Run it with gradients enabled, or freeze it explicitly with `requires_grad_(False)`."
    if "cuts it out" in why:
        return "Keep the value as a tensor in the graph: drop the `.detach()`/`.data`/`.item()`, or freeze the layer on purpose."
    return "Make its output part of what the loss is computed from, or remove the module."
