"""NN311: a module is called in forward and its result is thrown away."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from nnlint.rule import GraphRule
from nnlint.types import Location, Severity

if TYPE_CHECKING:
    from nnlint.graph.context import GraphContext


class DiscardedResult(GraphRule):
    """A layer's output is discarded (`self.bn(x)` without assignment): the layer does nothing (rules/NN311.md)."""

    code = "NN311"
    name = "discarded-result"
    severity = Severity.ERROR

    def check_graph(self, ctx: GraphContext) -> None:
        """call_module nodes nobody uses, except in-place layers (their effect is the mutation)."""
        if ctx.gm is None:
            return
        for node in ctx.gm.graph.nodes:
            if node.op != "call_module" or node.users:
                continue
            module = ctx.module(node)
            if getattr(module, "inplace", False):
                continue
            from nnlint import locate  # torch is imported only inside the graph pass

            source = locate.node_source(node)
            if source is not None and not _discarded_at(source):
                continue
            self.report(
                ctx.where_node(node),
                f"{ctx.describe(node)} is called but its result is thrown away: layers return a new tensor and "
                "do not change their input, so this layer has no effect on the output (and its weights get no "
                "gradient). Assign it: `x = ...`.",
            )


def _discarded_at(where: Location) -> bool:
    """Whether the call's own statement throws the result away (`self.bn(x)` alone on its line). A result
    that is assigned or passed on (`s = self.project(x); self.tree(x, s)`) and then ignored by the callee
    is dropped downstream, by design of the code it goes to (timm's DLA). Unreadable source: discarded."""
    from nnlint import locate

    statement = locate.statement(where)
    return statement is None or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call))
