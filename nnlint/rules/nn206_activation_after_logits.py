"""NN206: ReLU (or another activation) on the final logits that a logit loss consumes."""

from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import torch_api
from nnlint.static.layers import layer_class
from nnlint.static.project import method, return_values
from nnlint.static.semantics import FileSemantics, argument, sequential_layers
from nnlint.static.torch_api import ACTIVATION_FUNCTIONS, ACTIVATION_METHODS, ACTIVATION_MODULES, Kind
from nnlint.types import Severity

_MAX_DEPTH = 6
Found = Tuple[str, int]  # (the activation as written, its line)


class ActivationAfterLogits(StaticRule):
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
        activation, line = found
        self.report(
            loss.input,
            f"`{loss.display}` expects raw logits, but its input went through {activation} (line {line}) right "
            "after the final linear layer: negative logits are cut or squashed, so the model cannot say "
            '"not this class" strongly, some classes can become unreachable and the loss stalls. Remove the '
            "activation after the last layer and feed its output to the loss directly.",
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
            and semantics.module_class(func.value) is None
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


def _if_logits(
    semantics: FileSemantics, value: Optional[cst.BaseExpression], written: str, at: cst.CSTNode
) -> Optional[Found]:
    origin = semantics.origin(value) if value is not None else None
    if origin is None or origin.kind is not Kind.LOGITS:
        return None
    return written, semantics.line(at)


def _sequential_tail(semantics: FileSemantics, construct: cst.Call) -> Optional[Found]:
    """`nn.Sequential(..., nn.Linear(256, 10), nn.ReLU())`: an activation after the last linear layer."""
    layers = sequential_layers(construct)
    if len(layers) < 2:
        return None
    last = layer_class(semantics, layers[-1])
    before = semantics.layer_origin(layers[-2])
    if last is None or last[0] not in ACTIVATION_MODULES or before is None or before.kind is not Kind.LOGITS:
        return None
    return f"`{torch_api.short(last[0])}`, the last layer of an `nn.Sequential`", semantics.line(layers[-1])


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
