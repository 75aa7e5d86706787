"""What nnlint knows of torch's API, by qualified name. Plain data: no torch import."""

from __future__ import annotations

import enum
import re
from typing import Optional


class Kind(str, enum.Enum):
    """What a value is, as far as the static pass can tell."""

    SOFTMAX = "softmax probabilities"
    LOG_SOFTMAX = "log-probabilities"
    SIGMOID = "sigmoid probabilities"
    LOGITS = "raw logits"
    DROPOUT = "dropout output"
    BATCHNORM = "batch-norm output"
    LOSS = "a loss"


_NN = "torch.nn."
_F = "torch.nn.functional."

# Functions and methods whose result has a known kind.
FUNCTION_KINDS = {
    "torch.softmax": Kind.SOFTMAX,
    _F + "softmax": Kind.SOFTMAX,
    "torch.special.softmax": Kind.SOFTMAX,
    "torch.log_softmax": Kind.LOG_SOFTMAX,
    _F + "log_softmax": Kind.LOG_SOFTMAX,
    "torch.special.log_softmax": Kind.LOG_SOFTMAX,
    "torch.sigmoid": Kind.SIGMOID,
    _F + "sigmoid": Kind.SIGMOID,
    "torch.special.expit": Kind.SIGMOID,
    _F + "dropout": Kind.DROPOUT,
    _F + "dropout1d": Kind.DROPOUT,
    _F + "dropout2d": Kind.DROPOUT,
    _F + "dropout3d": Kind.DROPOUT,
    _F + "alpha_dropout": Kind.DROPOUT,
    _F + "feature_alpha_dropout": Kind.DROPOUT,
    _F + "linear": Kind.LOGITS,
}
METHOD_KINDS = {
    "softmax": Kind.SOFTMAX,
    "log_softmax": Kind.LOG_SOFTMAX,
    "sigmoid": Kind.SIGMOID,
}
# Tensor methods and torch functions that keep what a value is (reshaping, casting, moving).
PASSTHROUGH_METHODS = frozenset(
    {
        "view",
        "reshape",
        "flatten",
        "squeeze",
        "unsqueeze",
        "contiguous",
        "float",
        "double",
        "half",
        "bfloat16",
        "to",
        "cuda",
        "cpu",
        "clone",
        "view_as",
        "reshape_as",
        "type_as",
    }
)
PASSTHROUGH_FUNCTIONS = frozenset({"torch.flatten", "torch.squeeze", "torch.unsqueeze", "torch.reshape"})
# Module methods that return the module itself.
MODULE_PASSTHROUGH_METHODS = frozenset({"to", "cuda", "cpu", "float", "double", "half", "train", "eval"})

# nn.Module classes whose output has a known kind.
MODULE_KINDS = {
    _NN + "Softmax": Kind.SOFTMAX,
    _NN + "Softmax2d": Kind.SOFTMAX,
    _NN + "LogSoftmax": Kind.LOG_SOFTMAX,
    _NN + "Sigmoid": Kind.SIGMOID,
    _NN + "Linear": Kind.LOGITS,
    _NN + "LazyLinear": Kind.LOGITS,
    _NN + "Bilinear": Kind.LOGITS,
    _NN + "Dropout": Kind.DROPOUT,
    _NN + "Dropout1d": Kind.DROPOUT,
    _NN + "Dropout2d": Kind.DROPOUT,
    _NN + "Dropout3d": Kind.DROPOUT,
    _NN + "AlphaDropout": Kind.DROPOUT,
    _NN + "FeatureAlphaDropout": Kind.DROPOUT,
    _NN + "BatchNorm1d": Kind.BATCHNORM,
    _NN + "BatchNorm2d": Kind.BATCHNORM,
    _NN + "BatchNorm3d": Kind.BATCHNORM,
    _NN + "LazyBatchNorm1d": Kind.BATCHNORM,
    _NN + "LazyBatchNorm2d": Kind.BATCHNORM,
    _NN + "LazyBatchNorm3d": Kind.BATCHNORM,
    _NN + "SyncBatchNorm": Kind.BATCHNORM,
}
SEQUENTIAL = _NN + "Sequential"
BATCH_NORM_FUNCTION = _F + "batch_norm"

# Losses: the functional name is the canonical one; the class maps onto it.
LOSS_CLASSES = {
    "CrossEntropyLoss": "cross_entropy",
    "NLLLoss": "nll_loss",
    "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "MSELoss": "mse_loss",
    "L1Loss": "l1_loss",
    "SmoothL1Loss": "smooth_l1_loss",
    "HuberLoss": "huber_loss",
    "KLDivLoss": "kl_div",
    "PoissonNLLLoss": "poisson_nll_loss",
    "GaussianNLLLoss": "gaussian_nll_loss",
    "CTCLoss": "ctc_loss",
    "MarginRankingLoss": "margin_ranking_loss",
    "HingeEmbeddingLoss": "hinge_embedding_loss",
    "MultiLabelMarginLoss": "multilabel_margin_loss",
    "SoftMarginLoss": "soft_margin_loss",
    "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
    "CosineEmbeddingLoss": "cosine_embedding_loss",
    "MultiMarginLoss": "multi_margin_loss",
    "TripletMarginLoss": "triplet_margin_loss",
}
LOSS_FUNCTIONS = frozenset(LOSS_CLASSES.values())
# Losses that measure a distance between predictions and real-valued targets.
REGRESSION_LOSSES = frozenset({"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"})

# Constant targets mark an adversarial (GAN) term: the loss compares with "all real" / "all fake".
CONSTANT_TARGET_FUNCTIONS = frozenset(
    {"torch.ones_like", "torch.zeros_like", "torch.full_like", "torch.ones", "torch.zeros", "torch.full"}
)

_SUBMODULE = re.compile(r"^torch\.nn\.modules\.[a-z_]+\.")


def normalize(qualified_name: str) -> str:
    """Map import spellings onto one name: `torch.nn.modules.loss.X` -> `torch.nn.X`."""
    return _SUBMODULE.sub(_NN, qualified_name)


def loss_of(qualified_name: str) -> Optional[str]:
    """The canonical loss name for a loss class or function, else None."""
    if qualified_name.startswith(_F):
        name = qualified_name[len(_F) :]
        return name if name in LOSS_FUNCTIONS else None
    if qualified_name.startswith(_NN):
        return LOSS_CLASSES.get(qualified_name[len(_NN) :])
    return None


def short(qualified_name: str) -> str:
    """How users usually write a torch name: `nn.Softmax`, `F.softmax`, `torch.sigmoid`."""
    if qualified_name.startswith(_F):
        return "F." + qualified_name[len(_F) :]
    if qualified_name.startswith(_NN):
        return "nn." + qualified_name[len(_NN) :]
    return qualified_name
