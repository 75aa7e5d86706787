"""Which logit loss trains a model class, read from the file that defines it (NN206's graph hook).

The graph pass sees what a model outputs but not what the output is trained with; the static pass's dataflow of the
model's file answers that. No torch here.
"""

from __future__ import annotations

from typing import Optional, Tuple

import libcst as cst

from nnlint.static import torch_api
from nnlint.static.project import ProjectIndex, method
from nnlint.static.semantics import FileSemantics

_MAX_DEPTH = 6


def logit_loss_of(path: str, class_name: str) -> Optional[Tuple[str, bool]]:
    """(the loss as written with its line, whether it is the model's own output that the loss takes), or None.

    The model's output is taken by the loss when a loss that expects raw logits is called on `Model()(x)` in the
    file (directly, through a name, a `self.` attribute, `.to(device)`, a reshape, or `self(x)` inside the class).
    Otherwise a file whose only losses are logit losses, and whose only class with a `forward` is this model,
    trains it with them (a training script of one model: the loss may take it through a function's parameter)."""
    semantics = _semantics(path)
    if semantics is None:
        return None
    calls = [node for node in semantics.order if isinstance(node, cst.Call)]
    losses = [loss for loss in map(semantics.loss_call, calls) if loss is not None]
    for loss in losses:
        if (
            loss.name in torch_api.LOGIT_LOSSES
            and loss.input is not None
            and _output_of(semantics, loss.input, class_name)
        ):
            return f"`{loss.display}` (line {semantics.line(loss.call)})", True
    if not losses or any(loss.name not in torch_api.LOGIT_LOSSES for loss in losses):
        return None
    models = [name for name, klass in semantics.classes.items() if method(klass, "forward") is not None]
    if models != [class_name]:
        return None  # another model may be what the loss trains (a GAN's discriminator, a classifier around it)
    loss = losses[0]
    return f"`{loss.display}` (line {semantics.line(loss.call)})", False


def _output_of(semantics: FileSemantics, value: cst.BaseExpression, class_name: str) -> bool:
    """Whether `value` is the output of an instance of `class_name` (a local class of the file)."""
    expr = semantics.resolve(value)
    for _ in range(_MAX_DEPTH):
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in torch_api.PASSTHROUGH_METHODS:
            expr = semantics.resolve(func.value)  # `model(x).squeeze(1)`, `out.view(-1, n)`
            continue
        if isinstance(func, cst.Name) and func.value == "self":
            klass = semantics.class_of(expr)
            return klass is not None and klass.name.value == class_name  # `self(x)` in a LightningModule
        module = semantics.module_class(func)
        return module is not None and module[0] == class_name
    return False


def _semantics(path: str) -> Optional[FileSemantics]:
    from nnlint.static.parse import ParsedFile, parse_source

    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    project = ProjectIndex()
    parsed = parse_source(path, source, project)
    if not isinstance(parsed, ParsedFile):
        return None
    project.add(parsed.semantics)
    return parsed.semantics
