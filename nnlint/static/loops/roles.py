"""What a receiver is to a training loop: optimizer, scheduler, GradScaler, or the model (never imports torch).

By construction first (`torch.optim.SGD(...)` assigned to it, a model class of the checked files) and by
name only when the construction is not visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from nnlint.static.loops.names import GRAD_SCALERS, MODEL_NAME, OPTIMIZER_NAME
from nnlint.static.loops.syntax import dotted, last_name

if TYPE_CHECKING:
    from nnlint.static.semantics import FileSemantics


def receiver_role(semantics: FileSemantics, expr: cst.BaseExpression) -> Optional[str]:
    """'optimizer', 'scheduler' or 'scaler' for a receiver, by its construction, else by its name."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        construct = semantics.resolve(expr)
        qualified = None
        if isinstance(construct, cst.Call) and dotted(construct.func):
            qualified = semantics.qualified_name(construct.func) or ""
        else:
            qualified = _annotated_type(semantics, expr)  # `def train(..., opt: torch.optim.Optimizer)`
        if qualified is not None:
            if qualified.startswith(("torch.optim.lr_scheduler.", "torch.optim.swa_utils.SWALR")):
                return "scheduler"
            if qualified in GRAD_SCALERS:
                return "scaler"
            if qualified.startswith("torch.optim.") and not qualified.startswith("torch.optim.swa_utils"):
                return "optimizer"
            if qualified.startswith("torch."):
                return None
    name = last_name(expr)
    if name is None:
        return None
    lower = name.lower()
    if "sched" in lower and "noise" not in lower:
        return "scheduler"
    if "scaler" in lower:
        return "scaler"
    if OPTIMIZER_NAME.match(name):
        return "optimizer"
    return None


def _annotated_type(semantics: FileSemantics, expr: cst.BaseExpression) -> Optional[str]:
    """The annotated type of a parameter (`optimizer: Optimizer`, `Optional[...]` unwrapped), used as it is or kept
    in `self.<name>` by `__init__`."""
    name = semantics.self_attribute(expr) if isinstance(expr, cst.Attribute) else expr
    if not isinstance(name, cst.Name):
        return None
    function = semantics.enclosing(name, (cst.FunctionDef,))
    if function is None:
        return None
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value != name.value or param.annotation is None:
            continue
        annotation = param.annotation.annotation
        if isinstance(annotation, cst.Subscript) and last_name(annotation.value) == "Optional":
            element = annotation.slice[0].slice if annotation.slice else None
            annotation = element.value if isinstance(element, cst.Index) else annotation
        if dotted(annotation):
            return semantics.qualified_name(annotation)
    return None


def named_like_model(func: cst.BaseExpression) -> bool:
    """Whether a callee is named like the model (`model`, `net`, `self.student_model`): no analysis needed."""
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    name = last_name(func)
    return name is not None and bool(MODEL_NAME.search(name)) and not name.lower().endswith(("_fn", "_func", "_loss"))


def is_model_callee(semantics: FileSemantics, func: cst.BaseExpression) -> bool:
    """Whether a callee looks like the model: named like one, or an instance of a model class of the checked files."""
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    if named_like_model(func):
        return True
    module = semantics.module_class(func)
    if module is None:
        return False
    class_name = module[0]
    if class_name.startswith("torchvision.models."):
        return True
    return not class_name.startswith("torch") and "." not in class_name and semantics.project.has_class(class_name)
