"""NN205: losses of different kinds added together with no weights."""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from nnlint.rule import StaticRule
from nnlint.static import torch_api
from nnlint.static.reductions import term_reduction
from nnlint.static.semantics import Origin
from nnlint.types import Severity

_REDUCTIONS = frozenset({"mean", "sum"})


class UnscaledMultiLoss(StaticRule):
    """Losses on different scales summed with no weights, so one silently dominates (rules/NN205.md)."""

    code = "NN205"
    name = "unscaled-multi-loss"
    severity = Severity.WARNING
    needles = ("loss", "Loss")

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Add):
            return
        parent = self.context.semantics.parents.get(node)
        if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Add):
            return  # only the whole sum
        self._check_sum(node, list(_add_terms(node)))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        """`loss = ce` then `loss += feat_loss`: the running total and the added term are terms of one sum."""
        if isinstance(node.operator, cst.AddAssign) and isinstance(node.target, cst.Name):
            self._check_sum(node, [node.target, *_add_terms(node.value)])

    def _check_sum(self, node: cst.CSTNode, terms: List[cst.BaseExpression]) -> None:
        if any(_is_weighted(term) for term in terms):
            return  # the user already scales the terms against each other
        if self._check_reductions(node, terms):
            return
        losses = [loss for loss in (self._loss_term(term) for term in terms) if loss is not None]
        if len(losses) < 2:
            return
        names = [_loss_name(origin) for origin, _ in losses]
        regression = {
            name for name, (_, is_adv) in zip(names, losses) if name in torch_api.REGRESSION_LOSSES and not is_adv
        }
        adversarial = [origin for origin, is_adv in losses if is_adv]
        # An adversarial term next to a classification term is a joint objective (ACGAN); next to a
        # reconstruction (regression) term it needs a weight (pix2pix).
        others = [
            origin
            for name, (origin, is_adv) in zip(names, losses)
            if not is_adv and name in torch_api.REGRESSION_LOSSES
        ]
        if len(regression) >= 2 or (adversarial and others):
            self.report(node, self._message([origin for origin, _ in losses], bool(adversarial and others)))

    def _check_reductions(self, node: cst.CSTNode, terms: List[cst.BaseExpression]) -> bool:
        """A term summed over the batch added to a term averaged over it: report, and say whether it did."""
        reduced = [r for r in (term_reduction(self.context.semantics, term) for term in terms) if r is not None]
        summed = [r for r in reduced if r.reduction == "sum"]
        averaged = [r for r in reduced if r.reduction == "mean"]
        if not summed or not averaged:
            return False
        semantics = self.context.semantics
        summed_words = ", ".join(f"{r.description} (line {semantics.line(r.node)})" for r in summed)
        averaged_words = ", ".join(f"{r.description} (line {semantics.line(r.node)})" for r in averaged)
        summed_words = summed_words[:1].upper() + summed_words[1:]
        self.report(
            node,
            f"{summed_words} {'are' if len(summed) > 1 else 'is'} summed over the batch and every element, but "
            f"{averaged_words} {'are' if len(averaged) > 1 else 'is'} averaged, and "
            "they are added with no weights: the summed term grows with the batch size and the tensor size, so it "
            "is hundreds or thousands of times larger and drives training alone while the averaged one barely "
            "moves it (in a VAE, a summed KL against a mean reconstruction collapses the posterior: blurry, "
            "average outputs). Use the same reduction for every term (or divide the summed one by the batch "
            "size) and weight the terms explicitly.",
        )
        return True

    def _loss_term(self, term: cst.BaseExpression) -> Optional[Tuple[Origin, bool]]:
        semantics = self.context.semantics
        while (
            isinstance(term, cst.Call)
            and isinstance(term.func, cst.Attribute)
            and term.func.attr.value in _REDUCTIONS
            and not term.args
        ):
            term = term.func.value
        origin = semantics.origin(term)
        if origin is None or origin.loss is None:
            return None
        target = origin.loss.target
        return origin, target is not None and _is_constant_target(semantics, target)

    @staticmethod
    def _message(origins: List[Origin], adversarial: bool) -> str:
        parts = ", ".join(f"{o.description} (line {o.line})" for o in origins)
        why = (
            "an adversarial term and a reconstruction term live on unrelated scales"
            if adversarial
            else "these losses measure error in different units (squared vs absolute), so their sizes differ by orders of magnitude"
        )
        return (
            f"Losses {parts} are added with no weights: {why}, and the largest one silently drives "
            "training while the others barely move it. Weight each term (`loss = a + lam * b`), tune the "
            "weights so each contributes as intended, and log the terms separately."
        )


def _loss_name(origin: Origin) -> str:
    """The name of the loss a term comes from (`_loss_term` keeps only terms with one)."""
    return origin.loss.name if origin.loss is not None else ""


def _add_terms(node: cst.BaseExpression):
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        yield from _add_terms(node.left)
        yield from _add_terms(node.right)
    else:
        yield node


def _is_weighted(term: cst.BaseExpression) -> bool:
    return isinstance(term, cst.BinaryOperation) and isinstance(term.operator, (cst.Multiply, cst.Divide))


def _is_constant_target(semantics, target: cst.BaseExpression) -> bool:
    """`torch.ones_like(pred)` and friends: the loss pushes towards 'real' or 'fake', as a GAN does."""
    resolved = semantics.resolve(target)
    return (
        isinstance(resolved, cst.Call)
        and semantics.qualified_name(resolved.func) in torch_api.CONSTANT_TARGET_FUNCTIONS
    )
