"""NN313: most units of a ReLU are never active."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class DeadRelu(ProbeRule):
    """Most units of a ReLU output zero for every sample: they pass no gradient (rules/NN313.md)."""

    code = "NN313"
    name = "dead-relu"
    severity = Severity.WARNING
    needs = frozenset({Need.ACTIVATIONS})
    options = (
        Option("min_samples", 64, "samples a ReLU must see before it is judged"),
        Option("warn_fraction", 0.7, "share of dead units above which a ReLU gets a warning"),
        Option("error_fraction", 1.0, "share of dead units from which the finding is an error"),
        Option("min_units", 16, "a ReLU with fewer units is reported only when all of them are dead"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Warn above `warn_fraction` dead units in a ReLU call, error at `error_fraction` (over >= `min_samples` samples)."""
        warn, error, minimum = (
            ctx.option(self, "warn_fraction"),
            ctx.option(self, "error_fraction"),
            ctx.option(self, "min_samples"),
        )
        for site in ctx.facts.activations:
            if site.kind != "relu" or not site.units:
                continue
            if site.samples < minimum:
                ctx.status(
                    self.code, f"inconclusive: only {site.samples} samples reached {site.label} (needs {minimum:g})"
                )
                continue
            fraction = site.dead_units / site.units
            if fraction <= warn or (site.units < ctx.option(self, "min_units") and fraction < error):
                continue  # few units (an SE bottleneck fed pooled features): many dead by chance is common
            after = f" after {site.after}" if site.after else ""
            ctx.report(
                self,
                ctx.where(site.where, site.module),
                f"{site.label}{after}: {site.dead_units} of {site.units} units ({fraction:.0%}) are ≤ 0 for all "
                f"{site.samples} samples. A dead unit outputs 0 and passes no gradient, so the weights feeding it "
                "stop learning and the layer's capacity is lost. Usual causes: a large negative bias or a too-large "
                "initialisation of the layer before it, inputs that are not normalised, or a learning rate too high. "
                "Normalise before the ReLU (BatchNorm/LayerNorm), fix the initialisation, or use LeakyReLU/GELU.",
                severity=Severity.ERROR if fraction >= error else None,
            )
