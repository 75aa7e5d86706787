"""The answers the static dataflow gives: where a value came from (Origin), a loss call, a module instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Optional, Tuple

import libcst as cst

from nnlint.static.torch_api import Kind

if TYPE_CHECKING:
    from nnlint.static.flow import Step
    from nnlint.static.semantics import FileSemantics


@dataclass(frozen=True)
class Origin:
    """Where a value came from: its kind, the expression that produced it, and words for messages."""

    kind: Kind
    node: cst.CSTNode
    description: str
    semantics: "FileSemantics" = field(repr=False, compare=False)
    loss: Optional["LossCall"] = None  # set when kind is LOSS
    via: Tuple["Step", ...] = ()  # how the value reached the use from another function or file (flow.py)

    @property
    def line(self) -> int:
        """Line of the producing expression (computed only when a message needs it)."""
        return self.semantics.line(self.node)

    @property
    def path(self) -> str:
        """Display path of the file the value comes from."""
        return self.semantics.path


class LossCall(NamedTuple):
    """A call that computes a torch loss: canonical name (`cross_entropy`), how it was written, its arguments."""

    name: str
    display: str
    call: cst.Call
    input: Optional[cst.BaseExpression]
    target: Optional[cst.BaseExpression]


class ModuleInstance(NamedTuple):
    """A module instance: its class, the constructor call (an expression of `semantics`' file), and the steps
    of value flow that led from the use to it (empty when it was built in the same function)."""

    semantics: "FileSemantics"
    class_name: str
    construct: cst.Call
    via: Tuple["Step", ...]
