"""Shared check for the loss-pairing rules: a loss whose input holds the wrong kind of value."""

from __future__ import annotations

from typing import ClassVar, FrozenSet

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static.semantics import Origin
from nnlint.static.torch_api import Kind


class LossInputRule(StaticRule):
    """Base for rules that fire when a loss in `losses` is fed a value of a kind in `wrong_kinds`."""

    losses: ClassVar[FrozenSet[str]]
    wrong_kinds: ClassVar[FrozenSet[Kind]]

    def visit_Call(self, node: cst.Call) -> None:
        semantics = self.context.semantics
        loss = semantics.loss_call(node)
        if loss is None or loss.name not in self.losses or loss.input is None:
            return
        origin = semantics.origin(loss.input)
        if origin is None:  # the model comes from call sites that disagree: the first wrong one, named
            origin = next((o for o in semantics.path_origins(loss.input) if o.kind in self.wrong_kinds), None)
        if origin is not None and origin.kind in self.wrong_kinds:
            self.report(loss.input, self.message(loss.display, origin))

    def message(self, loss: str, origin: Origin) -> str:
        """What is wrong, why it hurts training, and what to do."""
        raise NotImplementedError

    @staticmethod
    def source(origin: Origin) -> str:
        """Where the value came from, in the user's terms."""
        return f"{origin.description} at line {origin.line}" + "".join(f", {step}" for step in origin.via)
