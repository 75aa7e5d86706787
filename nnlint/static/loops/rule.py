"""LoopRule: the base of the training-loop rules, which check a file through its loop model (never imports torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Set

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static.loops.events import Function, Unit
from nnlint.static.loops.model import LoopModel, loop_model

if TYPE_CHECKING:
    from nnlint.static.context import StaticContext
    from nnlint.static.semantics import FileSemantics


class LoopRule(StaticRule):
    """A static rule over the loop model of files that use PyTorch; a subclass overrides one `check_*` hook.

    `check_model` runs once per file; by default it calls `check_function` for every function whose
    events are complete (no recursion cut, no size cap), which calls `check_unit` for each of its loops
    and then its whole body. Rules with hooks of their own (`visit_Call`...) read `self.model`, None
    when the file is not a PyTorch file.
    """

    def __init__(self, context: StaticContext) -> None:
        super().__init__(context)
        self.model: Optional[LoopModel] = None
        self._reported: Set[int] = set()

    def visit_Module(self, node: cst.Module) -> None:
        if not self.may_apply(self.context.semantics):
            return
        model = loop_model(self.context.semantics)
        if not model.relevant:
            return
        self.model = model
        self.check_model(model)

    def may_apply(self, semantics: FileSemantics) -> bool:
        """False when the file surely has nothing this rule checks, told without its loop model (building it is the
        costly part of a loop rule). Overridden by rules that can tell."""
        return True

    def check_model(self, model: LoopModel) -> None:
        """Check one file's loop model: every complete function."""
        for function in model.functions():
            if model.complete(function):
                self.check_function(model, function)

    def check_function(self, model: LoopModel, function: Function) -> None:
        """Check one function: each loop's iteration, then the whole body."""
        for unit in model.units(function):
            self.check_unit(model, unit)

    def check_unit(self, model: LoopModel, unit: Unit) -> None:
        """Check one iteration of a loop, or one run of a function body."""

    def report_once(self, node: cst.CSTNode, message: str) -> None:
        """Report at `node` unless this rule already reported there (a helper's events recur in every caller)."""
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)
