"""NN003: a rule raised an exception; the other rules and files were still checked."""

from __future__ import annotations

from typing import Optional, Type

from nnlint.rule import Rule
from nnlint.types import Pass, Severity


class InternalError(Rule):
    """A rule of nnlint failed on this file: a bug in nnlint, not in your code."""

    code = "NN003"
    name = "internal-error"
    severity = Severity.ERROR
    passes = (Pass.STATIC, Pass.GRAPH, Pass.PROBE)

    @staticmethod
    def rule_failed(rule: Type[Rule], pass_: Pass, error: BaseException, target: Optional[str] = None) -> str:
        """The message for a graph or probe rule that raised `error` (on `target`, when named)."""
        on = f" on {target}" if target else ""
        return (
            f"{pass_.value.capitalize()} rule {rule.code} ({rule.name}) failed{on} with {type(error).__name__}: "
            f"{error}. This is a bug in nnlint."
        )
