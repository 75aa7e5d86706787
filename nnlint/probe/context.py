"""What a probe rule sees of one probed model, and where its findings go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Type

from torch import nn

from nnlint import locate
from nnlint.probe.facts import Facts, Where
from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import Rule


class ProbeContext:
    """A model, the facts the probe measured on it, rule options, and the findings so far."""

    def __init__(
        self, model: nn.Module, facts: Facts, fallback: Where, options: Optional[Mapping[str, Mapping[str, Any]]] = None
    ) -> None:
        self.model = model
        self.facts = facts
        self.fallback = fallback
        self.options = options or {}
        self.findings: List[Finding] = []

    def option(self, rule: "Type[Rule]", key: str) -> Any:
        """A threshold of `rule`: the caller's override (by code or name) or the rule's default."""
        for name in (rule.code, rule.name):
            if key in self.options.get(name, {}):
                return self.options[name][key]
        return rule.defaults[key]  # type: ignore[attr-defined]

    def where_module(self, path: str) -> Where:
        """The user's line defining a submodule (or parameter), else the model's definition."""
        if path:
            try:
                found = locate.module_source(self.model, path)
            except (AttributeError, ValueError, IndexError):
                found = None
            if found is not None:
                return found
        return self.fallback

    def where(self, found: Optional[Where], path: str = "") -> Where:
        """`found` when the probe knows the line, else the definition of `path`."""
        return found if found is not None else self.where_module(path)

    def report(
        self,
        rule: "Type[Rule] | Rule",
        where: Where,
        message: str,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> None:
        """Record a finding of `rule` at an absolute (file, line, column); the CLI maps the path for display."""
        finding = rule.finding(Location(where[0], where[1], where[2]), message, Pass.PROBE, fix)
        if severity is not None and severity != finding.severity:
            finding = Finding(
                finding.code, finding.name, finding.message, severity, finding.pass_, finding.location, finding.fix
            )
        self.findings.append(finding)

    def status(self, code: str, text: str) -> None:
        """Note why a check did not run or was inconclusive (shown in the report, never a finding)."""
        self.facts.statuses.setdefault(code, text)


def options_for(options: Optional[Dict[str, Dict[str, Any]]]) -> Dict[str, Dict[str, Any]]:
    """Rule options keyed by code or name, as given to `nnlint.probe(options=...)`."""
    return {str(key): dict(value) for key, value in (options or {}).items()}
