"""What a value is (softmax output, logits...) by the torch call or layer that made it. No torch import."""

from __future__ import annotations

import enum

from nnlint.static.torch_api.names import FUNCTIONAL, NN


class Kind(str, enum.Enum):
    """What a value is, as far as the static pass can tell."""

    SOFTMAX = "softmax probabilities"
    LOG_SOFTMAX = "log-probabilities"
    SIGMOID = "sigmoid probabilities"
    LOGITS = "raw logits"
    DROPOUT = "dropout output"
    BATCHNORM = "batch-norm output"
    LOSS = "a loss"


# Functional dropouts: each takes `training` third (NN408) and marks its output as dropout output.
DROPOUT_FUNCTIONS = frozenset(
    FUNCTIONAL + name
    for name in ("alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout")
)
# Dropout layers.
DROPOUT_MODULES = frozenset(
    NN + name for name in ("AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout")
)
# Batch-norm layers (NN401, NN402: what dropout or a bias must not feed).
BATCHNORM_MODULES = frozenset(
    NN + name
    for name in (
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "LazyBatchNorm3d",
        "SyncBatchNorm",
    )
)
# The functional batch norm.
BATCH_NORM_FUNCTION = FUNCTIONAL + "batch_norm"

# Functions whose result has a known kind.
FUNCTION_KINDS = {
    "torch.log_softmax": Kind.LOG_SOFTMAX,
    "torch.sigmoid": Kind.SIGMOID,
    "torch.softmax": Kind.SOFTMAX,
    "torch.special.expit": Kind.SIGMOID,
    "torch.special.log_softmax": Kind.LOG_SOFTMAX,
    "torch.special.softmax": Kind.SOFTMAX,
    FUNCTIONAL + "linear": Kind.LOGITS,
    FUNCTIONAL + "log_softmax": Kind.LOG_SOFTMAX,
    FUNCTIONAL + "sigmoid": Kind.SIGMOID,
    FUNCTIONAL + "softmax": Kind.SOFTMAX,
    **{name: Kind.DROPOUT for name in DROPOUT_FUNCTIONS},
}
# Tensor methods whose result has a known kind.
METHOD_KINDS = {
    "log_softmax": Kind.LOG_SOFTMAX,
    "sigmoid": Kind.SIGMOID,
    "softmax": Kind.SOFTMAX,
}
# Tensor methods that keep what a value is (reshaping, casting, moving).
PASSTHROUGH_METHODS = frozenset(
    {
        "bfloat16",
        "clone",
        "contiguous",
        "cpu",
        "cuda",
        "double",
        "flatten",
        "float",
        "half",
        "reshape",
        "reshape_as",
        "squeeze",
        "to",
        "type_as",
        "unsqueeze",
        "view",
        "view_as",
    }
)
# torch functions that keep what a value is.
PASSTHROUGH_FUNCTIONS = frozenset({"torch.flatten", "torch.reshape", "torch.squeeze", "torch.unsqueeze"})
# Module methods that return the module itself.
MODULE_PASSTHROUGH_METHODS = frozenset({"cpu", "cuda", "double", "eval", "float", "half", "to", "train"})

# nn.Module classes whose output has a known kind.
MODULE_KINDS = {
    NN + "Bilinear": Kind.LOGITS,
    NN + "LazyLinear": Kind.LOGITS,
    NN + "Linear": Kind.LOGITS,
    NN + "LogSoftmax": Kind.LOG_SOFTMAX,
    NN + "Sigmoid": Kind.SIGMOID,
    NN + "Softmax": Kind.SOFTMAX,
    NN + "Softmax2d": Kind.SOFTMAX,
    **{name: Kind.DROPOUT for name in DROPOUT_MODULES},
    **{name: Kind.BATCHNORM for name in BATCHNORM_MODULES},
}
