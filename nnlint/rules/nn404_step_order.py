"""NN404: scheduler, clipping and AMP unscaling called in the wrong order around optimizer.step()."""

from __future__ import annotations

from typing import List, Optional

import libcst as cst

from nnlint.static import loops, torch_api
from nnlint.static.loops import BACKWARD, CLIP, SCHEDULER_STEP, STEP, UNSCALE, Event, LoopRule, Unit
from nnlint.types import Severity

_INFINITE = ("inf", "float('inf')", 'float("inf")', "math.inf", "torch.inf", "np.inf", "numpy.inf")


class StepOrder(LoopRule):
    """Scheduler step before optimizer step, or gradient clipping where it cannot act (rules/NN404.md)."""

    code = "NN404"
    name = "step-order"
    severity = Severity.WARNING
    needles = ("step(",) + torch_api.needles(torch_api.CLIP_FUNCTIONS)

    def check_unit(self, model: loops.LoopModel, unit: Unit) -> None:
        for index, event in enumerate(unit.events):
            if not _directly_in(unit, event):
                continue
            if event.kind == SCHEDULER_STEP:
                self._check_scheduler(unit, index, event)
            elif event.kind == CLIP and not _clips_nothing(self.context.semantics, event):
                self._check_clip(unit, index, event)

    def _check_scheduler(self, unit: Unit, index: int, scheduler: Event) -> None:
        if scheduler.has_args:
            return  # `step(metric)`/`step(epoch)` set the value explicitly
        events = _together(unit.events, scheduler)
        if not unit.conditional(scheduler) and self._check_accumulated_step(unit, events, scheduler):
            return
        position = events.index(scheduler)
        if any(e.kind == STEP for e in events[:position]):
            return
        later = next((e for e in events[position + 1 :] if e.kind == STEP), None)
        if later is None or unit.inside_one_call(scheduler, later):
            return
        if unit.conditional(scheduler) and _guards(unit, scheduler) != _guards(unit, later):
            return  # a guarded scheduler step (warm-up only, first epoch only) is deliberate
        semantics = self.context.semantics
        if _warning_silenced(semantics, scheduler.node):
            return  # `with warnings.catch_warnings(): scheduler.step()`: the author knows PyTorch's warning
        self.report_once(
            unit.anchor(scheduler),
            f"`{loops.describe(semantics, scheduler.node)}` runs before `{loops.describe(semantics, later.node)}` "
            f"({loops.place(semantics, unit, later)}) in the same iteration: the learning rate moves before the "
            "first update, so the first value of the schedule is skipped and warm-up starts one step late "
            "(PyTorch warns about this order). Call the scheduler after `optimizer.step()` — at the end of the "
            "iteration, or after the batch loop for an epoch-level schedule.",
        )

    def _check_accumulated_step(self, unit: Unit, events: List[Event], scheduler: Event) -> bool:
        """A scheduler stepped on every micro-batch while the optimizer steps every N (gradient accumulation)."""
        steps = [e for e in events if e.kind == STEP and _directly_in(unit, e)]
        if not steps or any(not unit.conditional(step) for step in steps):
            return False
        step = steps[0]
        condition = loops.accumulation_condition(unit.tail(step))
        if condition is None or unit.inside_one_call(scheduler, step):
            return False
        semantics = self.context.semantics
        test = loops.describe(semantics, condition)
        if "sync_gradients" in test:
            return False  # Accelerate's prepared scheduler skips the steps where the optimizer did not step
        self.report_once(
            unit.anchor(scheduler),
            f"`{loops.describe(semantics, scheduler.node)}` runs on every iteration, but "
            f"`{loops.describe(semantics, step.node)}` ({loops.place(semantics, unit, step)}) only when `{test}`: "
            "with gradient accumulation the schedule advances once per micro-batch, several times per update, so "
            "warm-up and decay finish that many times too early (and the first scheduler steps come before any "
            "optimizer step). Step the scheduler inside the same `if`, right after the optimizer step.",
        )
        return True

    def _check_clip(self, unit: Unit, index: int, clip: Event) -> None:
        semantics = self.context.semantics
        events = _together(unit.events, clip)
        position = events.index(clip)
        before = events[:position]
        after = events[position + 1 :]
        previous = next((e for e in reversed(before) if e.kind in (BACKWARD, STEP)), None)
        upto_backward = _until(after, BACKWARD)
        clip_text = loops.describe(semantics, clip.node)
        if previous is not None and previous.kind == STEP:
            if not unit.inside_one_call(clip, previous) and not any(e.kind == STEP for e in upto_backward):
                self.report_once(
                    unit.anchor(clip),
                    f"`{clip_text}` runs after `{loops.describe(semantics, previous.node)}` ("
                    f"{loops.place(semantics, unit, previous)}): the update has already used the unclipped gradients, "
                    "so clipping changes nothing and a gradient spike can still blow up the weights. Clip between "
                    "`loss.backward()` and `optimizer.step()`.",
                )
            return
        if previous is None:
            backward = next((e for e in after if e.kind == BACKWARD), None)
            if (
                backward is not None
                and not unit.inside_one_call(clip, backward)
                and any(e.kind == STEP for e in after[after.index(backward) + 1 :])
            ):
                self.report_once(
                    unit.anchor(clip),
                    f"`{clip_text}` runs before `{loops.describe(semantics, backward.node)}` ("
                    f"{loops.place(semantics, unit, backward)}): it clips the gradients of the previous step (or "
                    "none at all), and the gradients the optimizer then uses are never clipped. Clip between "
                    "`loss.backward()` and `optimizer.step()`.",
                )
                return
        scaled_step = next((e for e in upto_backward if e.kind == STEP and e.amp), None)
        if scaled_step is None or unit.inside_one_call(clip, scaled_step):
            return
        since = before[before.index(previous) + 1 :] if previous is not None else before
        if any(e.kind == UNSCALE for e in since):
            return
        self.report_once(
            unit.anchor(clip),
            f"`{clip_text}` clips gradients that the GradScaler still holds multiplied by the loss scale (often "
            f"65536), and `{loops.describe(semantics, scaled_step.node)}` unscales them only afterwards: the "
            "threshold is compared with scaled values, so clipping is far too strong or never triggers. Call "
            f"`scaler.unscale_({scaled_step.target or 'optimizer'})` right before clipping.",
        )


def _directly_in(unit: Unit, event: Event) -> bool:
    """The event runs once per iteration of this unit (not inside a loop nested in it)."""
    if unit.loop is None:
        return not any(frame.kind == "loop" for frame in event.path)
    return not unit.nested(event)


def _warning_silenced(semantics, node: cst.CSTNode) -> bool:
    """The call sits in a `with warnings.catch_warnings():` block."""
    current = semantics.parents.get(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
        if isinstance(current, cst.With) and any(
            loops.last_name(item.item.func if isinstance(item.item, cst.Call) else item.item) == "catch_warnings"
            for item in current.items
        ):
            return True
        current = semantics.parents.get(current)
    return False


def _guards(unit: Unit, event: Event) -> List[cst.CSTNode]:
    """The `if` branches and earlier jumps around an event inside this unit: both events run together when equal."""
    return [frame.node for frame in unit.tail(event) if frame.kind in ("cond", "jump")]


def _together(events: List[Event], at: Event) -> List[Event]:
    """The events that can run in the same pass as `at` (not in another branch of the same `if`)."""
    return [e for e in events if e is at or not loops.exclusive(e, at)]


def _until(events: List[Event], kind: str) -> List[Event]:
    result = []
    for event in events:
        if event.kind == kind:
            break
        result.append(event)
    return result


def _clips_nothing(semantics, clip: Event) -> bool:
    """`clip_grad_norm_(params, float('inf'))` only measures the norm."""
    call = clip.node
    if not isinstance(call, cst.Call):
        return False
    limit: Optional[cst.BaseExpression] = None
    for position, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value in ("max_norm", "clip_value"):
            limit = arg.value
        elif arg.keyword is None and position == 1:
            limit = arg.value
    if limit is None:
        return False
    text = semantics.module.code_for_node(limit).replace(" ", "")
    return text in _INFINITE
