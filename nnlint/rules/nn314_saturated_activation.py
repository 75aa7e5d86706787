"""NN314: sigmoid or tanh units saturated for almost every sample."""

from __future__ import annotations

from typing import ClassVar, Dict

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class SaturatedActivation(Rule):
    """Most units of a sigmoid or tanh are saturated for almost every sample: their gradient vanishes (rules/NN314.md)."""

    code = "NN314"
    name = "saturated-activation"
    severity = Severity.WARNING
    passes = (Pass.PROBE,)
    defaults: ClassVar[Dict[str, float]] = {
        "preactivation": 5.0,
        "sample_share": 0.95,
        "unit_share": 0.5,
        "min_samples": 64,
    }

    def check_probe(self) -> None:
        """Warn when more than `unit_share` of a call's units have |pre-activation| >= 5 for >= 95% of samples."""
        ctx = self.context
        rule = type(self)
        share, edge, minimum = (
            ctx.option(rule, "unit_share"),
            ctx.option(rule, "preactivation"),
            ctx.option(rule, "min_samples"),
        )
        samples = ctx.option(rule, "sample_share")
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
