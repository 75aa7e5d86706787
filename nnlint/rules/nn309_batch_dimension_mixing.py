"""NN309: the batch dimension is folded into other dimensions, so samples mix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Optional

from nnlint.probe.texts import at
from nnlint.rule import GraphRule, Need, ProbeRule
from nnlint.types import Severity

if TYPE_CHECKING:
    from torch import fx

    from nnlint.graph.context import GraphContext
    from nnlint.probe.context import ProbeContext

_RESHAPES = frozenset({"view", "reshape", "flatten", "permute", "transpose", "view_as", "reshape_as", "movedim"})


class BatchDimensionMixing(GraphRule, ProbeRule):
    """The output's batch dimension does not follow the input's: samples are mixed (rules/NN309.md)."""

    code = "NN309"
    name = "batch-dimension-mixing"
    severity = Severity.ERROR
    needs = frozenset({Need.BATCH_INDEPENDENCE})

    def check_graph(self, ctx: GraphContext) -> None:
        """Propagated at batch 2 and 3: every output must keep the batch in dimension 0."""
        first, second = ctx.runs
        if first.output is None or second.output is None:
            return
        broken = [
            (a, b)
            for a, b in zip(_tensors(first.output), _tensors(second.output))
            if a and not _tracks(a, b, first.batch, second.batch)
        ]
        if not broken or not _batch_scaled(broken, _input_sizes(first.inputs)):
            return
        culprit = _culprit(ctx)
        a, b = broken[0]
        if culprit is not None:
            before = ctx.shape(culprit.args[0], 0)
            message = (
                f"{ctx.describe(culprit)} turns shape {list(before)} into {list(ctx.shape(culprit, 0))} at batch size "
                f"{first.batch}: the batch dimension is folded into others, so values of different samples are mixed "
                f"(the output has shape {list(a)} at batch {first.batch} and {list(b)} at batch {second.batch}). "
                "Keep dimension 0 as the batch: `x.view(x.size(0), -1)` or `torch.flatten(x, 1)`."
            )
            self.report(ctx.where_node(culprit), message)
        else:
            self.report(
                ctx.fallback,
                f"The model's output has shape {list(a)} at batch size {first.batch} and {list(b)} at batch "
                f"{second.batch}: dimension 0 does not follow the batch, so samples are mixed somewhere in forward. "
                "Keep dimension 0 as the batch in every reshape.",
            )

    def check_probe(self, ctx: ProbeContext) -> None:
        """In eval mode, the probe changed one sample of a batch and watched the others' outputs and gradients."""
        mixing = ctx.facts.mixing
        if not mixing.checked:
            if mixing.reason:
                ctx.status(self.code, f"skipped: {mixing.reason}")
            return
        if not mixing.mixed:
            return
        culprit = (
            f" The first operation whose other rows change is {mixing.culprit}{at(mixing.culprit_where)}."
            if mixing.culprit
            else ""
        )
        self.report(
            ctx.where(mixing.culprit_where),
            f"In eval mode, the outputs of a batch of {mixing.samples} depend on other samples of the batch: changing "
            f"one sample changes the others' outputs, or their gradients reach it.{culprit} The model can then "
            "cheat during training and its predictions depend on the batch size. Reduce over feature dimensions, not "
            "dimension 0, and keep dimension 0 as the batch in every reshape (`x.flatten(1)`, `x.view(x.size(0), -1)`).",
        )


def _culprit(ctx: GraphContext) -> Optional[fx.Node]:
    """The first reshape whose input keeps the batch in dimension 0 and whose output does not (fx only)."""
    if ctx.gm is None:
        return None
    for node in ctx.gm.graph.nodes:
        name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
        if name not in _RESHAPES or not node.args:
            continue
        source = node.args[0]
        before = (ctx.shape(source, 0), ctx.shape(source, 1))
        after = (ctx.shape(node, 0), ctx.shape(node, 1))
        if _is_shape(before[0]) and _is_shape(after[0]) and before[0] and after[0]:
            batches = (ctx.runs[0].batch, ctx.runs[1].batch)
            if _tracks(before[0], before[1], *batches) and not _tracks(after[0], after[1], *batches):
                return node
    return None


def _is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(d, int) for d in value)


def _tensors(value: Any) -> List[tuple]:
    if _is_shape(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [shape for item in value for shape in _tensors(item)]
    if isinstance(value, dict):
        return [shape for item in value.values() for shape in _tensors(item)]
    return []


def _tracks(a: tuple, b: tuple, batch_a: int, batch_b: int) -> bool:
    """Dimension 0 is the batch in both runs (or it is a scalar/reduced value, which is fine)."""
    if len(a) != len(b):
        return False
    return a[0] == batch_a and b[0] == batch_b and a[1:] == b[1:]


def _input_sizes(inputs: Iterable[tuple]) -> set:
    """Products of consecutive non-batch input dimensions: folding the batch with these is legitimate
    (token-level logits of shape [batch * length, vocab])."""
    sizes = set()
    for shape in inputs:
        rest = shape[1:]
        for start in range(len(rest)):
            product = 1
            for size in rest[start:]:
                product *= size
                sizes.add(product)
    return sizes


def _batch_scaled(pairs: Iterable[tuple], legitimate: set) -> bool:
    """Only outputs whose leading size grows with the batch (k * B, k > 1, k not an input size) are mixing."""
    for a, b in pairs:
        if len(a) == len(b) and a[0] != b[0] and a[0] % 2 == 0 and b[0] % 3 == 0 and a[0] // 2 == b[0] // 3:
            factor = a[0] // 2
            if factor > 1 and factor not in legitimate:
                return True
    return False
