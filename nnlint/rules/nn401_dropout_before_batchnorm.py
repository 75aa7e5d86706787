"""NN401: Dropout directly followed by BatchNorm (variance shift between train and eval)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import libcst as cst

from nnlint.rule import GraphRule, Need, ProbeRule
from nnlint.static import torch_api
from nnlint.static.layers import LayerPairRule
from nnlint.static.semantics import argument
from nnlint.static.torch_api import Kind
from nnlint.types import Severity

if TYPE_CHECKING:
    from torch import fx

    from nnlint.graph.context import GraphContext
    from nnlint.probe.context import ProbeContext

VARIANCE_RANGE = (0.8, 1.25)  # eval-mode over train-mode input variance of a BatchNorm fed by dropout


class DropoutBeforeBatchnorm(LayerPairRule, GraphRule, ProbeRule):
    """Dropout feeds BatchNorm directly: its statistics differ between train and eval (rules/NN401.md)."""

    code = "NN401"
    name = "dropout-before-batchnorm"
    severity = Severity.WARNING
    needles = torch_api.needles(torch_api.DROPOUT_MODULES, torch_api.DROPOUT_FUNCTIONS)
    needs = frozenset({Need.VARIANCE_SHIFT})

    def check_call(self, node: cst.Call) -> None:
        # Dataflow in forward: the input of a BatchNorm call was produced by a dropout.
        # The input first: rules share what a value is, and whether the callee is a BatchNorm may follow its
        # construction across files (`norm_layer=...` passed from every model file).
        semantics = self.context.semantics
        value = argument(node, 0, "input")
        origin = semantics.origin(value) if value is not None else None
        if origin is None or origin.kind is not Kind.DROPOUT:
            return
        if semantics.qualified_name(node.func) == torch_api.BATCH_NORM_FUNCTION:
            is_batchnorm = True
        else:
            module = semantics.module_class(node.func)
            is_batchnorm = module is not None and torch_api.MODULE_KINDS.get(module[0]) is Kind.BATCHNORM
        if is_batchnorm:
            self.report(node, _message(f"{origin.description} (line {origin.line})"))

    def check_pair(self, first: cst.BaseExpression, second: cst.BaseExpression) -> None:
        semantics = self.context.semantics
        before, after = semantics.layer_origin(first), semantics.layer_origin(second)
        if before is not None and after is not None and before.kind is Kind.DROPOUT and after.kind is Kind.BATCHNORM:
            self.report(first, _message(f"{before.description}", then=after.description))

    def check_graph(self, ctx: GraphContext) -> None:
        """In the traced dataflow, a BatchNorm whose input is a dropout's output (through reshapes only), however
        the layers were built: a helper, a loop, a config list, `getattr`."""
        if ctx.gm is None:
            self._check_module_edges(ctx)
            return
        for node in ctx.gm.graph.nodes:
            norm = batchnorm_described(ctx, node)
            if norm is None or not node.args:
                continue
            source = ctx.source_of(node.args[0])
            dropout = _dropout_described(ctx, source)
            if dropout is None:
                continue
            if source.op == "call_module" and ctx.in_container(str(source.target)):
                where = ctx.where_built(str(source.target))  # built in a list of layers: where the dropout was made
            else:
                where = ctx.where_node(node)  # a call in forward: the BatchNorm call, as the static pass reports
            if not ctx.in_library(str(node.target) if node.op == "call_module" else ""):
                self.report(where, _message(dropout, then=norm))

    def _check_module_edges(self, ctx: GraphContext) -> None:
        """Without fx: a BatchNorm layer called on the very tensor a dropout layer returned (an eager run's hooks)."""
        from torch import nn

        for (producer, consumer), called_at in sorted(ctx.module_edges().items()):
            dropout, norm = ctx.model.get_submodule(producer), ctx.model.get_submodule(consumer)
            if not (isinstance(dropout, nn.modules.dropout._DropoutNd) and dropout.p > 0):
                continue
            if not isinstance(norm, nn.modules.batchnorm._BatchNorm) or ctx.in_library(consumer):
                continue
            where = ctx.where_built(producer) if ctx.in_container(producer) else called_at
            self.report(
                where,
                _message(
                    f"`self.{producer}` ({type(dropout).__name__}, p={dropout.p:g})",
                    then=f"`self.{consumer}` ({type(norm).__name__})",
                ),
            )

    def check_probe(self, ctx: ProbeContext) -> None:
        """A BatchNorm fed by dropout whose eval-mode input variance is off its train-mode one."""
        low, high = VARIANCE_RANGE
        for shift in ctx.facts.variance_shifts:
            if low <= shift.ratio <= high:
                continue
            self.report(
                ctx.where_module(shift.label),
                f"`self.{shift.label}` normalises the output of {shift.dropout}: in eval mode its input variance is "
                f"{shift.ratio:.2f}× the train-mode variance its running statistics converge to (outside "
                f"[{low}, {high}]), so eval-mode activations are mis-scaled and accuracy drops at test time. Put dropout "
                "after the BatchNorm (or after the last BatchNorm only).",
            )


def batchnorm_described(ctx: GraphContext, node: fx.Node) -> Optional[str]:
    """ "`self.bn` (BatchNorm1d)" or "`F.batch_norm`" where the node is a batch normalisation, else None."""
    import torch
    from torch import nn

    if node.op == "call_module" and isinstance(ctx.module(node), nn.modules.batchnorm._BatchNorm):
        return ctx.describe(node)
    if node.op == "call_function" and node.target is torch.nn.functional.batch_norm:
        return ctx.describe(node)
    return None


def _dropout_described(ctx: GraphContext, node: Any) -> Optional[str]:
    """ "`self.drop` (Dropout, p=0.5)" where the node is a dropout that drops something in training, else None."""
    from torch import fx, nn
    from torch.nn import functional

    if not isinstance(node, fx.Node):
        return None
    if node.op == "call_module":
        module = ctx.module(node)
        if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
            return f"`self.{node.target}` ({type(module).__name__}, p={module.p:g})"
        return None
    dropouts = (
        functional.dropout,
        functional.dropout1d,
        functional.dropout2d,
        functional.dropout3d,
        functional.alpha_dropout,
        functional.feature_alpha_dropout,
    )
    if node.op != "call_function" or node.target not in dropouts:
        return None
    p = node.args[1] if len(node.args) > 1 else node.kwargs.get("p", 0.5)
    training = node.args[2] if len(node.args) > 2 else node.kwargs.get("training", True)
    if not isinstance(p, (int, float)) or p <= 0 or training is False:
        return None  # p=0, or `training=self.training` traced in eval mode: nothing is dropped
    return f"{ctx.describe(node)} (p={p:g})"


def _message(dropout: str, then: str = "BatchNorm") -> str:
    return (
        f"{dropout} feeds {then} directly: dropout changes the variance of its output between training "
        "and evaluation, so the running variance BatchNorm learns in training is wrong at eval time "
        "(the 'variance shift'), and accuracy drops after `model.eval()`. Put dropout after the "
        "BatchNorm (and its activation), or only after the last BatchNorm."
    )
