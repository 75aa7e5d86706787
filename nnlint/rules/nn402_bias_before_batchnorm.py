"""NN402: a layer with a bias directly followed by BatchNorm, which cancels the bias."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple, cast

import libcst as cst

from nnlint.rule import GraphRule
from nnlint.static import torch_api
from nnlint.static.layers import DEFAULT_BIAS, LayerPairRule, bias_argument, layer_class, producer, self_attribute_calls
from nnlint.static.semantics import argument
from nnlint.static.torch_api import Kind
from nnlint.types import Fix, Severity

if TYPE_CHECKING:
    from torch import fx

    from nnlint.graph.context import GraphContext


class BiasBeforeBatchnorm(LayerPairRule, GraphRule):
    """A Linear or Conv layer with a bias feeds BatchNorm, whose mean subtraction cancels it (rules/NN402.md)."""

    code = "NN402"
    name = "bias-before-batchnorm"
    needles = torch_api.needles(torch_api.BATCHNORM_MODULES, (torch_api.BATCH_NORM_FUNCTION,))
    severity = Severity.INFO
    fix_availability = "sometimes"

    def check_pair(self, first: cst.BaseExpression, second: cst.BaseExpression) -> None:
        semantics = self.context.semantics
        layer, norm = layer_class(semantics, first), layer_class(semantics, second)
        if layer is not None and norm is not None and _is_batchnorm(norm[0]):
            self._check(first, layer, torch_api.short(norm[0]))

    def check_call(self, node: cst.Call) -> None:
        # Dataflow in forward: `self.bn(self.conv(x))`, or `x = self.conv(x)` then `x = self.bn(x)`.
        # The cheap local test first: whether a callee is a BatchNorm may follow its construction across files.
        semantics = self.context.semantics
        call = producer(semantics, argument(node, 0, "input"))
        if call is None or not _is_self_attribute(call.func):
            return
        if semantics.qualified_name(node.func) == torch_api.BATCH_NORM_FUNCTION:
            norm = "F.batch_norm"
        else:
            module = semantics.module_class(node.func)
            if module is None or not _is_batchnorm(module[0]):
                return
            norm = torch_api.short(module[0])
        layer = semantics.module_class(call.func)
        klass = semantics.class_of(call)
        if (
            layer is None
            or klass is None
            or self_attribute_calls(klass, cast(cst.Attribute, call.func).attr.value) != 1
        ):
            return  # a layer used in several places may feed something else elsewhere
        self._check(call, layer, norm)

    def check_graph(self, ctx: GraphContext) -> None:
        """In the traced dataflow, a Linear or Conv layer with a bias whose output goes only into a BatchNorm, however
        the layers were built (a helper, a loop, a config list, `getattr`)."""
        from nnlint.rules.nn401_dropout_before_batchnorm import batchnorm_described

        if ctx.gm is None:
            return  # hooks only: other consumers of the layer's output (a residual) are not recorded
        for node in ctx.gm.graph.nodes:
            layer = _biased_layer(ctx, node)
            if layer is None or ctx.calls(str(node.target)) != 1 or len(node.users) != 1:
                continue  # a layer called twice, or whose output also goes elsewhere, needs its bias there
            if _per_feature_only(ctx, node):
                continue
            user = next(iter(node.users))
            norm = batchnorm_described(ctx, user)
            if norm is None or not user.args or user.args[0] is not node:
                continue
            if ctx.in_container(str(node.target)):
                where = ctx.where_built(str(node.target))  # built in a list of layers: where the layer was made
            else:
                where = ctx.where_node(node)  # a call in forward: the layer's call, as the static pass reports
            if ctx.in_library(str(node.target)):
                continue
            self.report(
                where,
                f"{ctx.describe(node)} has a bias but its output goes only into {norm}: BatchNorm subtracts the "
                f"batch mean, which cancels the bias exactly, so its {layer} values never change the output — they "
                "only cost memory, optimizer state and weight decay. Build the layer with `bias=False`.",
            )

    def _check(self, at: cst.CSTNode, layer: Tuple[str, cst.Call], norm: str) -> None:
        class_name, construct = layer
        bias = bias_argument(class_name, construct)
        if not (isinstance(bias, cst.Name) and bias.value == "True"):
            return  # bias=False, or a variable: unknown
        line = self.context.semantics.line(construct)
        self.report(
            at,
            f"`{torch_api.short(class_name)}` (line {line}) has a bias but feeds `{norm}` directly: BatchNorm "
            "subtracts the batch mean, which cancels the bias exactly, so those parameters never change the "
            "output — they only cost memory, optimizer state and weight decay. Pass `bias=False`.",
            fix=self._fix(construct, bias),
        )

    def _fix(self, construct: cst.Call, bias: cst.BaseExpression) -> Optional[Fix]:
        if bias is not DEFAULT_BIAS:
            edit = self.context.replace(bias, "False")  # `bias=True`, or True given positionally
        elif construct.args:
            edit = self.context.insert_after(construct.args[-1], ", bias=False")
        else:
            return None
        # unsafe: the bias leaves the state_dict, so a strict load of an older checkpoint fails
        return Fix("Pass `bias=False`", (edit,), safe=False)


def _biased_layer(ctx: GraphContext, node: fx.Node) -> Optional[int]:
    """The size of the bias of a Linear or Conv layer the node calls, else None."""
    from torch import nn

    module = ctx.module(node)
    if not isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
        return None
    bias = getattr(module, "bias", None)
    return int(bias.numel()) if isinstance(bias, nn.Parameter) else None


def _per_feature_only(ctx: GraphContext, node: fx.Node) -> bool:
    """A Linear layer whose output is not (batch, features): its bias is per last dimension, but BatchNorm normalises
    dimension 1 (a `BatchNorm1d(seq_len)` over (batch, seq_len, features)), so the bias is not cancelled."""
    from torch import nn

    shape = ctx.shape(node)
    return isinstance(ctx.module(node), nn.Linear) and not (isinstance(shape, tuple) and len(shape) == 2)


def _is_batchnorm(class_name: str) -> bool:
    return torch_api.MODULE_KINDS.get(class_name) is Kind.BATCHNORM


def _is_self_attribute(func: cst.BaseExpression) -> bool:
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self"
