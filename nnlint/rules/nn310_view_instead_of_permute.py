"""NN310: a view/reshape whose output is a reordering of its input's dimensions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnlint.rule import GraphRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.graph.context import GraphContext

_RESHAPES = frozenset({"view", "reshape"})


class ViewInsteadOfPermute(GraphRule):
    """`view`/`reshape` reorders dimensions: the data is scrambled where `permute` was meant (rules/NN310.md)."""

    code = "NN310"
    name = "view-instead-of-permute"
    severity = Severity.ERROR

    def check_graph(self, ctx: GraphContext) -> None:
        """A reshape whose output shape is a non-trivial permutation of its input shape in both runs."""
        if ctx.gm is None:
            return
        for node in ctx.gm.graph.nodes:
            name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
            if name not in _RESHAPES or not node.args:
                continue
            if all(_is_permutation(ctx.shape(node.args[0], run), ctx.shape(node, run)) for run in (0, 1)):
                before, after = ctx.shape(node.args[0], 0), ctx.shape(node, 0)
                order = _order(before, after)
                self.report(
                    ctx.where_node(node),
                    f"{ctx.describe(node)} reshapes {list(before)} into {list(after)}, a reordering of the same "
                    "dimensions: `view`/`reshape` keep the memory order, so this scrambles values across positions "
                    f"instead of moving axes. Use `permute({', '.join(map(str, order))})` (or `transpose`) to reorder "
                    "dimensions.",
                )


def _is_permutation(before, after) -> bool:
    if not (isinstance(before, tuple) and isinstance(after, tuple)) or len(before) != len(after) or len(before) < 2:
        return False
    return sorted(before) == sorted(after) and before != after


def _order(before: tuple, after: tuple) -> list:
    """A permutation of `before`'s axes that gives `after` (equal sizes keep their relative order)."""
    free = list(range(len(before)))
    order = []
    for size in after:
        index = next(i for i in free if before[i] == size)
        free.remove(index)
        order.append(index)
    return order
