"""The Rule base class: a rule's metadata, and how it reports a finding."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Optional, Tuple

from nnlint.types import Finding, Fix, Location, Pass, Severity

if TYPE_CHECKING:
    import libcst as cst

    from nnlint.static.context import StaticContext


class Rule:
    """A check for one concept; subclasses set the metadata and define `visit_<Node>` hooks."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    passes: ClassVar[Tuple[Pass, ...]] = (Pass.STATIC,)
    fix_availability: ClassVar[str] = "never"  # never | sometimes | always
    # Words a file must contain for the rule to have anything to find there; files with none of any
    # selected rule's needles are not even parsed. Empty: the rule runs on every file.
    needles: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, context: "StaticContext") -> None:
        self.context = context

    @classmethod
    def summary(cls) -> str:
        """The first line of the rule's docstring, without its page reference."""
        first = (cls.__doc__ or "").strip().splitlines()[0]
        return re.sub(r"\s*\(rules/NN\d+\.md\)", "", first)

    @classmethod
    def finding(cls, location: Location, message: str, pass_: Pass = Pass.STATIC, fix: Optional[Fix] = None) -> Finding:
        """A finding of this rule at a location, with the rule's default severity."""
        return Finding(cls.code, cls.name, message, cls.severity, pass_, location, fix)

    def report(self, node: "cst.CSTNode", message: str, fix: Optional[Fix] = None) -> None:
        """Report a finding at a libcst node of the file being checked."""
        self.context.report(self, node, message, fix)
