"""NN102: over a real training run the loss stops falling far from where it should be, or climbs away from its best."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.probe.texts import number
from nnlint.rule import Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class LossNotDecreasing(ProbeRule):
    """In a watched training run the loss stalls near its start, cannot pass a floor set by the output, or diverges (rules/NN102.md)."""

    code = "NN102"
    name = "loss-not-decreasing"
    severity = Severity.WARNING
    options = (
        Option("windows", 4, "windows of steps (one per sampled step) seen before a stall or a floor is judged"),
        Option("recent", 3, "the last windows compared with the best before them"),
        Option("gain", 0.02, "relative improvement of the recent windows below which the loss has stalled"),
        Option("stalled_fraction", 0.9, "a stalled loss is reported when its best is above this share of its start"),
        Option(
            "floor_fraction",
            0.1,
            "a floor the output's range puts under the loss is reported above this share of its start",
        ),
        Option("rise", 3.0, "a loss this many times its best window, and above its start, has diverged"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Judge the mean loss per window of a watched run (`nnlint.watch`); the probe's own steps are NN101's."""
        curve = ctx.facts.loss_curve
        if not curve:
            ctx.status(self.code, "skipped: only `nnlint.watch` follows a training run's loss")
            return
        start = curve[0][2]
        best = min(curve, key=lambda window: window[2])
        last = curve[-1]
        rise = ctx.option(self, "rise")
        if best[2] > 0 and last[2] >= rise * best[2] and last[2] > start:
            self.report(
                ctx.fallback,
                f"The training loss diverges: its mean over {_steps(last)} is {number(last[2])}, "
                f"{last[2] / best[2]:.2g}× its best {number(best[2])} ({_steps(best)}) and above its start "
                f"{number(start)}. The optimizer overshoots: lower the learning rate (or add warm-up), clip gradients "
                "(`torch.nn.utils.clip_grad_norm_`), and check the other findings for exploding gradients or update ratios.",
            )
            return
        if len(curve) < int(ctx.option(self, "windows")) or start <= 0:
            return
        floor = ctx.facts.loss_floor
        if floor is not None and floor[0] > ctx.option(self, "floor_fraction") * start:
            self.report(
                ctx.where_module(ctx.facts.loss.output_module if ctx.facts.loss else ""),
                f"The training loss started at {number(start)} and is {number(best[2])} at best after {last[1] + 1} "
                f"steps: {floor[1]}. No learning rate or number of steps gets past that floor. Scale the targets into "
                "the output's range, or drop or change the squashing op at the output.",
            )
            return
        recent = int(ctx.option(self, "recent"))
        if len(curve) < recent + 1:
            return
        before = min(window[2] for window in curve[:-recent])
        now = min(window[2] for window in curve[-recent:])
        if now < (1 - ctx.option(self, "gain")) * before:
            return  # still falling
        if best[2] > ctx.option(self, "stalled_fraction") * start:
            self.report(
                ctx.fallback,
                f"The training loss is stuck near its start: {number(start)} at first, {number(best[2])} at best after "
                f"{last[1] + 1} steps, with no gain over steps {curve[-recent][0]}-{last[1]}. The model is not learning: "
                "look for frozen or detached layers, parameters missing from the optimizer, dead units, a learning rate "
                "off by orders of magnitude, or labels that do not match the inputs; the other findings often name the cause.",
            )


def _steps(window) -> str:
    return f"steps {window[0]}-{window[1]}" if window[1] != window[0] else f"step {window[0]}"
