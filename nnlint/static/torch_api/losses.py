"""torch losses: each class mapped onto its functional name, the canonical one. No torch import."""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from nnlint.static.torch_api.names import FUNCTIONAL, NN, needles

# Loss classes (in torch.nn) and the functional (in torch.nn.functional) each one calls.
LOSS_CLASSES = {
    "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "CTCLoss": "ctc_loss",
    "CosineEmbeddingLoss": "cosine_embedding_loss",
    "CrossEntropyLoss": "cross_entropy",
    "GaussianNLLLoss": "gaussian_nll_loss",
    "HingeEmbeddingLoss": "hinge_embedding_loss",
    "HuberLoss": "huber_loss",
    "KLDivLoss": "kl_div",
    "L1Loss": "l1_loss",
    "MSELoss": "mse_loss",
    "MarginRankingLoss": "margin_ranking_loss",
    "MultiLabelMarginLoss": "multilabel_margin_loss",
    "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
    "MultiMarginLoss": "multi_margin_loss",
    "NLLLoss": "nll_loss",
    "PoissonNLLLoss": "poisson_nll_loss",
    "SmoothL1Loss": "smooth_l1_loss",
    "SoftMarginLoss": "soft_margin_loss",
    "TripletMarginLoss": "triplet_margin_loss",
}
# Functional losses, by their name in torch.nn.functional.
LOSS_FUNCTIONS = frozenset(LOSS_CLASSES.values())
# Losses that measure a distance between predictions and real-valued targets.
REGRESSION_LOSSES = frozenset({"huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"})
# torch.distributions' KL between two distributions: one value per sample and dimension, not reduced (NN205).
KL_DIVERGENCE_FUNCTIONS = frozenset({"torch.distributions.kl.kl_divergence", "torch.distributions.kl_divergence"})
# Losses that expect raw logits (NN206: no activation may cut them first).
LOGIT_LOSSES = frozenset({"binary_cross_entropy_with_logits", "cross_entropy"})


def loss_of(qualified_name: str) -> Optional[str]:
    """The canonical loss name for a loss class or function, else None."""
    if qualified_name.startswith(FUNCTIONAL):
        name = qualified_name[len(FUNCTIONAL) :]
        return name if name in LOSS_FUNCTIONS else None
    if qualified_name.startswith(NN):
        return LOSS_CLASSES.get(qualified_name[len(NN) :])
    return None


def loss_needles(losses: Iterable[str]) -> Tuple[str, ...]:
    """The needles of a rule about these canonical losses: their functional and class names."""
    wanted = frozenset(losses)
    return needles(wanted, (name for name, function in LOSS_CLASSES.items() if function in wanted))
