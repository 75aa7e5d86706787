"""Configured input shapes completed from the first layer: a shape given without a dtype (`--input-shape`)
takes the dtype the layer that consumes it needs, so an Embedding-first model gets int64 token ids."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence, Tuple

from torch import nn

from nnlint.config import InputSpec
from nnlint.graph import inputs as input_plans

DEFAULT_DTYPE = "float32"  # what InputSpec holds when no dtype was configured


def with_first_layer_dtypes(model: nn.Module, specs: Sequence[InputSpec]) -> Tuple[InputSpec, ...]:
    """`specs` where a default-float input feeds a layer that takes integers: that input as int64 ids in the
    layer's range. A float tensor cannot index an embedding, so this never overrides a working configuration."""
    plan = input_plans.infer(model, None)
    if plan is None or not specs:
        return tuple(specs)
    first = plan.make(1, plan.sizes[0])
    completed = list(specs)
    for index, (spec, guess) in enumerate(zip(specs, first)):
        if spec.dtype != DEFAULT_DTYPE or guess.is_floating_point() or guess.dtype.is_complex:
            continue
        high = spec.high if spec.high is not None else _embedding_size(model)
        completed[index] = replace(
            spec, dtype="int64", low=spec.low if spec.low is not None else 0.0, high=None if high is None else high
        )
    return tuple(completed)


def _embedding_size(model: nn.Module) -> Optional[float]:
    embedding = next((m for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))), None)
    return float(embedding.num_embeddings) if embedding is not None else None
