"""NN206: ReLU (or another activation) on the final logits that a logit loss consumes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import libcst as cst

from nnlint.rule import GraphRule, StaticRule
from nnlint.static import torch_api
from nnlint.static.layers import layer_class
from nnlint.static.project import method, return_values
from nnlint.static.semantics import FileSemantics, argument, sequential_layers
from nnlint.static.torch_api import ACTIVATION_FUNCTIONS, ACTIVATION_METHODS, ACTIVATION_MODULES, Kind
from nnlint.types import Severity

if TYPE_CHECKING:
    from nnlint.graph.context import GraphContext

_MAX_DEPTH = 6
Found = Tuple[str, cst.CSTNode]  # (the activation as written, where it is applied)


class ActivationAfterLogits(StaticRule, GraphRule):
    """An activation such as ReLU cuts the final logits before a loss that expects raw logits (rules/NN206.md)."""

    code = "NN206"
    name = "activation-after-logits"
    needles = torch_api.loss_needles(torch_api.LOGIT_LOSSES)
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        loss = semantics.loss_call(node)
        if loss is None or loss.name not in torch_api.LOGIT_LOSSES or loss.input is None:
            return
        found = _activated_logits(semantics, loss.input, 0)
        if found is None:
            return
        activation, at = found
        # Reported at the activation (what to remove), where the graph pass reports it too: one finding per place.
        self.report(at, message(activation, f"its output goes to `{loss.display}` (line {semantics.line(node)})"))

    def check_graph(self, ctx: GraphContext) -> None:
        """The traced model's output is an activation of its last linear layer, however the layers were built, and
        the model's file feeds that output to a logit loss, or trains only this model with only logit losses (a
        regression output may be activated on purpose; an encoder's output is features)."""
        if ctx.gm is None:
            return
        output = next(node for node in reversed(ctx.gm.graph.nodes) if node.op == "output")
        activation = ctx.source_of(output.args[0])
        written = activation_written(ctx, activation)
        if written is None or not activation.args or ctx.output_kind_of(activation.args[0]) != "logits":
            return
        from nnlint.rules.logit_loss_pairing import logit_loss_of

        paired = logit_loss_of(ctx.fallback.path, type(ctx.model).__name__)
        if paired is None:
            return
        loss, direct = paired
        trained = f"its output goes to {loss}" if direct else f"this file trains it with {loss}, its only loss"
        if activation.op == "call_module" and ctx.in_container(str(activation.target)):
            where = ctx.where_built(str(activation.target))  # the last layer of an nn.Sequential: its place there
        else:
            where = ctx.where_node(activation)
        if not ctx.in_library(str(activation.target) if activation.op == "call_module" else ""):
            self.report(where, message(f"{written}, the model's output,", trained))


def activation_written(ctx: GraphContext, node: Any) -> Optional[str]:
    """How a user writes the logit-distorting activation an fx node applies ("`self.act` (ReLU)", "`F.relu`")."""
    from torch import fx

    if not isinstance(node, fx.Node):
        return None
    if node.op == "call_module":
        kind = type(ctx.module(node))
        qualified = "torch.nn." + kind.__name__ if kind.__module__.startswith("torch.nn.") else ""
        return ctx.describe(node) if qualified in ACTIVATION_MODULES else None
    if node.op == "call_function":
        name = _activation_functions().get(node.target)
        return f"`{name}`" if name is not None else None
    if node.op == "call_method" and str(node.target) in ACTIVATION_METHODS:
        return ctx.describe(node)
    return None


def _activation_functions() -> Dict[Any, str]:
    """The torch functions of ACTIVATION_FUNCTIONS, resolved, with the names users write."""
    import torch

    found: Dict[Any, str] = {}
    for qualified in ACTIVATION_FUNCTIONS:
        value: Any = torch
        for part in qualified.split(".")[1:]:
            value = getattr(value, part, None)
        if value is not None:
            found[value] = torch_api.short(qualified)
    return found


def message(activation: str, loss: str) -> str:
    """The finding's text: which activation, which loss."""
    return (
        f"{activation} is applied right after the final linear layer, and {loss}, which "
        'expects raw logits: negative logits are cut or squashed, so the model cannot say "not this class" '
        "strongly, some classes can become unreachable and the loss stalls. Remove the activation after the last "
        "layer and feed its output to the loss directly."
    )


def _activated_logits(semantics: FileSemantics, expr: cst.BaseExpression, depth: int) -> Optional[Found]:
    """Where `expr` is an activation applied directly to raw logits, the activation and its line."""
    if depth > _MAX_DEPTH:
        return None
    call = semantics.resolve(expr)
    if not isinstance(call, cst.Call):
        return None
    func = call.func
    qualified = semantics.qualified_name(func)
    if qualified in ACTIVATION_FUNCTIONS:
        return _if_logits(semantics, argument(call, 0, "input"), f"`{torch_api.short(qualified)}`", call)
    if isinstance(func, cst.Name) and func.value == "self":
        klass = semantics.class_of(call)
        return _forward_activated(semantics, klass, depth) if klass is not None else None
    module = semantics.module_class(func)
    if module is None:
        if (
            isinstance(func, cst.Attribute)
            and (qualified is None or not qualified.startswith("torch"))
            and not _is_module(semantics, func.value)
        ):
            if func.attr.value in ACTIVATION_METHODS:
                return _if_logits(semantics, func.value, f"`.{func.attr.value}()`", call)
            if func.attr.value in torch_api.PASSTHROUGH_METHODS:
                return _activated_logits(semantics, func.value, depth + 1)
        return None
    class_name, construct = module
    if class_name in ACTIVATION_MODULES:
        return _if_logits(semantics, argument(call, 0, "input"), f"`{torch_api.short(class_name)}`", call)
    if class_name == torch_api.SEQUENTIAL:
        return _sequential_tail(semantics, construct)
    klass = semantics.classes.get(class_name)
    return _forward_activated(semantics, klass, depth) if klass is not None else None


def _is_module(semantics: FileSemantics, expr: cst.BaseExpression) -> bool:
    """Whether `expr` is a module instance. module_class also names the torch function a call's value comes from
    (`torch.tanh(x)`): a tensor, whose `.squeeze(-1)` keeps the activation (issue 13's recall corpus)."""
    module = semantics.module_class(expr)
    return module is not None and module[0].rsplit(".", 1)[-1][:1].isupper()


def _if_logits(
    semantics: FileSemantics, value: Optional[cst.BaseExpression], written: str, at: cst.CSTNode
) -> Optional[Found]:
    origin = semantics.origin(value) if value is not None else None
    if origin is None or origin.kind is not Kind.LOGITS:
        return None
    return written, at


def _sequential_tail(semantics: FileSemantics, construct: cst.Call) -> Optional[Found]:
    """`nn.Sequential(..., nn.Linear(256, 10), nn.ReLU())`: an activation after the last linear layer."""
    layers = sequential_layers(construct)
    if len(layers) < 2:
        return None
    last = layer_class(semantics, layers[-1])
    before = semantics.layer_origin(layers[-2])
    if last is None or last[0] not in ACTIVATION_MODULES or before is None or before.kind is not Kind.LOGITS:
        return None
    return f"`{torch_api.short(last[0])}`, the last layer of an `nn.Sequential`,", layers[-1]


def _forward_activated(semantics: FileSemantics, klass: cst.ClassDef, depth: int) -> Optional[Found]:
    """A model class in this file whose `forward` returns activated logits on every path."""
    forward = method(klass, "forward")
    if forward is None:
        return None
    values = return_values(forward)
    found = [_activated_logits(semantics, value, depth + 1) if value is not None else None for value in values]
    if not found or any(item is None for item in found):
        return None
    return found[-1]
