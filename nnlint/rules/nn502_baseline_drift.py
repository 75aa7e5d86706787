"""NN502: a probe's results drifted from a saved baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Tuple

from nnlint.probe.texts import number
from nnlint.rule import BaselineRule, Option
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.baseline import DriftContext


class BaselineDrift(BaselineRule):
    """A probe's measurements or outcomes drifted from the saved baseline (rules/NN502.md)."""

    code = "NN502"
    name = "baseline-drift"
    severity = Severity.WARNING
    options = (
        Option("grad_norm_factor", 10.0, "change of a layer's initial gradient norm (either way) that is reported"),
        Option("loss_change", 0.1, "relative change of the initial loss that is reported"),
        Option("reported_layers", 5, "how many drifted layers are reported"),
    )

    def check_baseline(self, ctx: DriftContext) -> None:
        """Compare checks, the initial loss and per-layer gradient norms with the baseline."""
        now, then = ctx.current, ctx.saved
        commit = (then.get("env") or {}).get("git")
        since = f" (baseline: commit {commit[:10]})" if commit else ""
        for code, status in sorted(now.get("checks", {}).items()):
            if status == "failed" and then.get("checks", {}).get(code) == "passed":
                self.report(
                    ctx.fallback,
                    f"{code} passed in the baseline and fails now{since}: a change since then broke what it checks; see the {code} finding.",
                )
        same_setup = all(now.get(k) == then.get(k) for k in ("task", "loss", "input", "seed"))
        old, new = then.get("initial_loss"), now.get("initial_loss")
        change = ctx.option(self, "loss_change")
        if same_setup and old and new is not None and abs(new - old) > change * abs(old):
            self.report(
                ctx.fallback,
                f"The initial loss moved from {number(old)} to {number(new)}{since} with the same inputs, loss and seed "
                f"(more than {change:.0%}): the initialisation or the forward pass changed.",
            )
        if same_setup:
            self._layers(ctx, since)

    def _layers(self, ctx: DriftContext, since: str) -> None:
        factor = ctx.option(self, "grad_norm_factor")
        before = {row["name"]: row for row in ctx.saved.get("layers", []) if row.get("grad_norm")}
        moved: List[Tuple[float, dict, float]] = []
        for row in ctx.current.get("layers", []):
            old = before.get(row["name"])
            if old is None or not row.get("grad_norm"):
                continue
            ratio = row["grad_norm"] / old["grad_norm"]
            if ratio > factor or ratio < 1 / factor:
                moved.append((max(ratio, 1 / ratio), row, old["grad_norm"]))
        moved.sort(key=lambda item: -item[0])
        for _, row, old in moved[: int(ctx.option(self, "reported_layers"))]:
            self.report(
                ctx.fallback,
                f"The initial gradient norm of `{row['name']}` changed from {number(old)} to {number(row['grad_norm'])}{since} "
                f"(more than {factor:g}× with the same inputs and seed): its initialisation, its place in the network or "
                f"what feeds it changed{'' if len(moved) == 1 else f'; {len(moved)} layers drifted'}.",
            )
