"""NN314: sigmoid or tanh units saturated for almost every sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.rule import Need, Option, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.probe.context import ProbeContext


class SaturatedActivation(ProbeRule):
    """Most units of a sigmoid or tanh are saturated for almost every sample: their gradient vanishes (rules/NN314.md)."""

    code = "NN314"
    name = "saturated-activation"
    severity = Severity.WARNING
    needs = frozenset({Need.ACTIVATIONS})
    options = (
        Option("preactivation", 5.0, "|pre-activation| from which a unit counts as saturated"),
        Option("sample_share", 0.75, "share of samples for which a unit must be saturated"),
        Option("unit_share", 0.5, "share of saturated units above which a sigmoid or tanh is reported"),
        Option("min_samples", 64, "samples a sigmoid or tanh must see before it is judged"),
    )

    def check_probe(self, ctx: ProbeContext) -> None:
        """Warn when more than `unit_share` of a call's units have |pre-activation| >= 5 for >= 95% of samples."""
        share, edge, minimum = (
            ctx.option(self, "unit_share"),
            ctx.option(self, "preactivation"),
            ctx.option(self, "min_samples"),
        )
        samples = ctx.option(self, "sample_share")
        for site in ctx.facts.activations:
            if site.kind not in ("sigmoid", "tanh") or not site.units or site.samples < minimum:
                continue
            fraction = site.saturated_units / site.units
            if fraction <= share:
                continue
            after = f" after {site.after}" if site.after else ""
            self.report(
                ctx.where(site.where, site.module),
                f"{site.label}{after}: {site.saturated_units} of {site.units} units ({fraction:.0%}) have |pre-activation| "
                f"≥ {edge:g} for at least {samples:.0%} of {site.samples} samples. There the {site.kind}'s slope is below "
                f"{0.0066 if site.kind == 'sigmoid' else 0.00018:g}, so almost no gradient flows back and the layers "
                "before it stop learning. Scale down the initialisation of the layer feeding it, normalise its input, "
                "or use an activation that does not saturate (ReLU/GELU).",
            )
