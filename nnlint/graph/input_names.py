"""Extra forward arguments guessed from their names (edge_index, adj, masks, timesteps, ids, images, labels):
what GNN, seq2seq, multimodal and diffusion code calls them, as meta tensors shaped after the first input."""

from __future__ import annotations

from typing import Callable, List, Tuple

import torch
from torch import nn


def meta_float(shape: Tuple[int, ...]) -> torch.Tensor:
    """A float32 tensor of this shape on the meta device (sizes only)."""
    return torch.empty(shape, device="meta")


Guess = Callable[[int, torch.Tensor], torch.Tensor]  # (batch, the first input) -> this input


def image_guess(size: int) -> Guess:
    return lambda b, r: meta_float((b, 3, size, size))


_EDGE_NAMES = ("edge_index", "edge_indices", "edges", "edge_idx", "edge_list")
_TIME_NAMES = ("t", "time", "times", "timestep", "timesteps", "sigma", "sigmas", "noise_level")


def structural(name: str) -> bool:
    """Names of arguments that describe the other inputs' structure (edges, adjacency, masks) or the diffusion
    step: they reach a layer only through indexing, matmuls, masking or an embedding of their own."""
    lowered = name.lower()
    return (
        lowered in _EDGE_NAMES
        or lowered in _TIME_NAMES
        or lowered.startswith(("adj", "adjacency"))
        or "mask" in lowered
    )


def name_guesses(name: str, model: nn.Module) -> List[Guess]:
    """Shapes an argument may have, from its name: what GNN, seq2seq, multimodal and diffusion code calls them."""
    lowered = name.lower()
    if lowered in _EDGE_NAMES:
        return [lambda b, r: torch.empty((2, 2 * r.shape[0]), dtype=torch.int64, device="meta")]
    if lowered.startswith(("adj", "adjacency")) or lowered in ("a_hat", "laplacian"):
        return [
            lambda b, r: meta_float((r.shape[0], r.shape[0])),
            lambda b, r: meta_float((r.shape[0], r.shape[1], r.shape[1])),
        ]
    if "mask" in lowered:
        return [
            lambda b, r: torch.empty(tuple(r.shape[:2]), dtype=torch.bool, device="meta"),
            lambda b, r: meta_float((r.shape[1], r.shape[1])),
            lambda b, r: torch.empty((r.shape[1], r.shape[1]), dtype=torch.bool, device="meta"),
            lambda b, r: meta_float((r.shape[0], 1, 1, r.shape[1])),
        ]
    has_embedding = any(isinstance(m, nn.Embedding) for m in model.modules())
    if has_embedding and (
        lowered.endswith(("ids", "idx", "tokens"))
        or lowered in ("src", "tgt", "trg", "text", "caption", "captions", "target_seq", "decoder_input")
    ):
        return [lambda b, r: torch.empty((b, r.shape[1] if r.dim() == 2 else 16), dtype=torch.int64, device="meta")]
    if lowered in ("image", "images", "img", "imgs", "pixel_values", "pixels", "picture", "x_img"):
        return [image_guess(s) for s in (224, 64, 32)]
    if lowered in _TIME_NAMES:
        return [lambda b, r: torch.empty((b,), dtype=torch.int64, device="meta"), lambda b, r: meta_float((b,))]
    if lowered in ("y", "label", "labels", "class_labels", "classes", "cond_label"):
        return [lambda b, r: torch.empty((b,), dtype=torch.int64, device="meta")]
    return []
