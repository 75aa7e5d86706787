"""NN403: a training loop that never clears gradients, or clears them where they are still needed."""

from __future__ import annotations

from typing import List, Optional

from nnlint.static import loops
from nnlint.static.loops import BACKWARD, CLEAR_KINDS, STEP, ZERO_GRAD, Event, LoopRule, Unit
from nnlint.types import Severity


class MissingZeroGrad(LoopRule):
    """Gradients are never cleared between optimizer steps, or are cleared between backward and step (rules/NN403.md)."""

    code = "NN403"
    name = "missing-zero-grad"
    severity = Severity.ERROR
    needles = ("backward",)

    def check_unit(self, model: loops.LoopModel, unit: Unit) -> None:
        if unit.loop is not None:
            self._check_loop(model, unit)
        self._check_order(model, unit)

    def _check_loop(self, model: loops.LoopModel, unit: Unit) -> None:
        backwards, steps = unit.of(BACKWARD), unit.of(STEP)
        if not backwards or not steps or any(step.has_args for step in steps):
            return
        for nested in unit.nested_loops():
            inner = Unit(unit.function, nested, unit.events)  # type: ignore[arg-type]
            if inner.of(BACKWARD) and inner.of(STEP):
                return  # the innermost training loop is checked on its own
        semantics = self.context.semantics
        for step in steps:
            construct = model.optimizer_construction(step)
            if construct is not None and unit.contains(construct, semantics):
                return  # a fresh optimizer (over fresh tensors) each iteration: nothing carries over
        clears = unit.of(*CLEAR_KINDS)
        step = steps[0]
        step_text = _step_text(semantics, step)
        if not clears:
            condition = loops.accumulation_condition(unit.tail(step))
            outside = next(
                (e for e in model.events(unit.function) if e.kind in CLEAR_KINDS and e not in unit.events), None
            )
            if condition is not None:
                advice = (
                    f" The step is taken only when `{loops.describe(semantics, condition)}`, so this looks like gradient "
                    "accumulation: clear the gradients right after that step, inside the same `if`."
                )
            elif outside is not None:
                advice = (
                    f" `{loops.describe(semantics, outside.node)}` (line {semantics.line(outside.node)}) runs outside "
                    "this loop, so it does not clear them between these steps: move it into the loop, before "
                    "the backward pass."
                )
            else:
                advice = " Call `optimizer.zero_grad()` at the start of each iteration (or right after the step)."
            self.report_once(
                unit.anchor(step),
                f"This loop calls `{_backward_text(semantics, unit.of(BACKWARD)[0])}` and `{step_text}` but does not "
                "clear the gradients between steps: `.backward()` adds to `.grad`, so every step applies the sum of all "
                "gradients since the start of training and the updates grow until the loss diverges." + advice,
            )
            return
        self._check_accumulation(unit, steps, clears)

    def _check_accumulation(self, unit: Unit, steps: List[Event], clears: List[Event]) -> None:
        """`zero_grad()` every iteration while `step()` runs every N iterations: nothing accumulates."""
        semantics = self.context.semantics
        conditions = [loops.accumulation_condition(unit.tail(step)) for step in steps]
        if any(condition is None for condition in conditions):
            return
        if any(unit.conditional(clear) for clear in clears):
            return
        every_time = [b for b in unit.of(BACKWARD) if loops.accumulation_condition(unit.tail(b)) is None]
        if not every_time:
            return
        clear = next((c for c in clears if c.kind == ZERO_GRAD and not unit.nested(c)), None)
        if clear is None:
            return
        condition = conditions[0]
        assert condition is not None
        self.report_once(
            unit.anchor(clear),
            f"`{loops.describe(semantics, clear.node)}` runs on every iteration, but `{_step_text(semantics, steps[0])}` "
            f"only when `{loops.describe(semantics, condition)}`: the gradients of the accumulated micro-batches are "
            "wiped before the step, so each update uses only the last micro-batch (scaled down by the "
            "accumulation factor). Move the zero_grad into the same `if`, right after the step.",
        )

    def _check_order(self, model: loops.LoopModel, unit: Unit) -> None:
        """backward, then zero_grad of the same optimizer (or of the model it trains), then step."""
        semantics = self.context.semantics
        events = unit.events
        for index, clear in enumerate(events):
            if clear.kind != ZERO_GRAD or unit.conditional(clear) or unit.nested(clear):
                continue
            if unit.loop is None and any(frame.kind == "loop" for frame in clear.path):
                continue
            backward = _last_before(events, index, BACKWARD, clear)
            if backward is None:
                continue
            step = _next_step(events, index, clear)
            if step is None or unit.inside_one_call(backward, clear, step):
                continue
            optimizer = step.target
            owner = model.optimizer_params_owner(step)
            if clear.receiver not in (optimizer, owner) or not clear.receiver:
                continue
            self.report_once(
                unit.anchor(clear),
                f"`{loops.describe(semantics, clear.node)}` runs after `{_backward_text(semantics, backward)}` "
                f"({loops.place(semantics, unit, backward)}) and before `{_step_text(semantics, step)}` "
                f"({loops.place(semantics, unit, step)}): it wipes the gradients just computed, so the step "
                "changes nothing and the model never learns. Clear the gradients before the backward pass (at "
                "the start of the iteration) or after the step.",
            )


def _last_before(events: List[Event], index: int, kind: str, at: Event) -> Optional[Event]:
    for event in reversed(events[:index]):
        if event.kind == kind and not loops.exclusive(event, at):
            return event
    return None


def _next_step(events: List[Event], index: int, at: Event) -> Optional[Event]:
    """The next optimizer step after `at`, unless another backward comes first."""
    for event in events[index + 1 :]:
        if loops.exclusive(event, at):
            continue
        if event.kind == BACKWARD:
            return None
        if event.kind == STEP:
            return event
    return None


def _step_text(semantics, step: Event) -> str:
    return loops.describe(semantics, step.node)


def _backward_text(semantics, backward: Event) -> str:
    return loops.describe(semantics, backward.node)
