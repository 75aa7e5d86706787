"""What a probe rule sees of one probed model, and where its findings go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Type, Union

from torch import nn

from nnlint import locate
from nnlint.probe.facts import Facts
from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    from nnlint.rule import At, OptionValues, Rule


class ProbeContext:
    """A model, the facts the probe measured on it, rule options, and the findings so far."""

    def __init__(
        self, model: nn.Module, facts: Facts, fallback: Location, options: Optional[OptionValues] = None
    ) -> None:
        self.model = model
        self.facts = facts
        self.fallback = fallback
        self.options: OptionValues = options or {}
        self.findings: List[Finding] = []

    def option(self, rule: Union[Rule, Type[Rule]], name: str) -> Any:
        """Option `name` of `rule`: the caller's value (by code or name) or the rule's declared default."""
        return rule.option_value(name, self.options)

    def where_module(self, path: str) -> Location:
        """The user's line defining a submodule (or parameter), else the model's definition."""
        if path:
            try:
                found = locate.module_source(self.model, path)
            except (AttributeError, ValueError, IndexError):
                found = None
            if found is not None:
                return found
        return self.fallback

    def where(self, found: Optional[Location], path: str = "") -> Location:
        """`found` when the probe knows the line, else the definition of `path`."""
        return found if found is not None else self.where_module(path)

    def report(
        self,
        rule: Union[Rule, Type[Rule]],
        at: At,
        message: str,
        *,
        fix: Optional[Fix] = None,
        severity: Optional[Severity] = None,
    ) -> None:
        """Record a finding of `rule` at a location with an absolute path; the CLI maps the path for display."""
        if not isinstance(at, Location):
            raise TypeError(f"a probe finding points at a Location, not {type(at).__name__}")
        self.findings.append(rule.finding(at, message, Pass.PROBE, fix, severity))

    def status(self, code: str, text: str) -> None:
        """Note why a check did not run or was inconclusive (shown in the report, never a finding)."""
        self.facts.statuses.setdefault(code, text)
