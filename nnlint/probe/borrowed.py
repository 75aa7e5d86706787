"""Probe checks for concepts whose rule lives in another pass: softmax before cross-entropy (NN201),
batch-dimension mixing (NN309) and dropout before batchnorm (NN401). Same codes, seen at runtime."""

from __future__ import annotations

import math
from typing import FrozenSet

from nnlint.probe.context import ProbeContext
from nnlint.probe.texts import at
from nnlint.rules.nn201_softmax_before_cross_entropy import SoftmaxBeforeCrossEntropy
from nnlint.rules.nn309_batch_dimension_mixing import BatchDimensionMixing
from nnlint.rules.nn401_dropout_before_batchnorm import DropoutBeforeBatchnorm

VARIANCE_RANGE = (0.8, 1.25)  # eval-mode over train-mode input variance of a BatchNorm fed by dropout


def check(ctx: ProbeContext, codes: FrozenSet[str]) -> None:
    """Report what the probe measured for NN201, NN309 and NN401 when they are selected."""
    if SoftmaxBeforeCrossEntropy.code in codes:
        _softmax(ctx)
    if BatchDimensionMixing.code in codes:
        _mixing(ctx)
    if DropoutBeforeBatchnorm.code in codes:
        _variance_shift(ctx)


def _softmax(ctx: ProbeContext) -> None:
    loss = ctx.facts.loss
    if loss is None or not (loss.probabilities and loss.log_softmax_loss and loss.classes):
        return
    classes = loss.classes
    floor = math.log(1 + (classes - 1) / math.e)
    where = ctx.where(loss.softmax_where, loss.output_module)
    ctx.report(
        SoftmaxBeforeCrossEntropy,
        where,
        f"The model's outputs are already probabilities (every row is non-negative and sums to 1), but "
        f"`{loss.loss_name}` applies log-softmax itself. The double softmax squashes the gradients: for {classes} "
        f"classes the loss cannot fall below ln(1+({classes}-1)/e) = {floor:.4f} (it starts at {loss.initial:.4f}), "
        "so training plateaus far above zero. Return the raw logits; apply softmax only for predictions.",
    )


def _mixing(ctx: ProbeContext) -> None:
    mixing = ctx.facts.mixing
    if not mixing.checked:
        if mixing.reason:
            ctx.status(BatchDimensionMixing.code, f"skipped: {mixing.reason}")
        return
    if not mixing.mixed:
        return
    culprit = (
        f" The first operation whose other rows change is {mixing.culprit}{at(mixing.culprit_where)}."
        if mixing.culprit
        else ""
    )
    ctx.report(
        BatchDimensionMixing,
        ctx.where(mixing.culprit_where),
        f"In eval mode, the outputs of a batch of {mixing.samples} depend on other samples of the batch: changing "
        f"one sample changes the others' outputs, or their gradients reach it.{culprit} The model can then "
        "cheat during training and its predictions depend on the batch size. Reduce over feature dimensions, not "
        "dimension 0, and keep dimension 0 as the batch in every reshape (`x.flatten(1)`, `x.view(x.size(0), -1)`).",
    )


def _variance_shift(ctx: ProbeContext) -> None:
    low, high = VARIANCE_RANGE
    for shift in ctx.facts.variance_shifts:
        if low <= shift.ratio <= high:
            continue
        ctx.report(
            DropoutBeforeBatchnorm,
            ctx.where_module(shift.label),
            f"`self.{shift.label}` normalises the output of {shift.dropout}: in eval mode its input variance is "
            f"{shift.ratio:.2f}× the train-mode variance its running statistics converge to (outside "
            f"[{low}, {high}]), so eval-mode activations are mis-scaled and accuracy drops at test time. Put dropout "
            "after the BatchNorm (or after the last BatchNorm only).",
        )
