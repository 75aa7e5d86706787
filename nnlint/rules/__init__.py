"""ALL_RULES: every rule nnlint has, listed explicitly and sorted by code."""
from nnlint.rules.nn001_parse_error import ParseError
from nnlint.rules.nn002_unreadable_file import UnreadableFile
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn201_softmax_before_cross_entropy import SoftmaxBeforeCrossEntropy
from nnlint.rules.nn202_nll_loss_without_log_softmax import NllLossWithoutLogSoftmax
from nnlint.rules.nn203_sigmoid_before_bce_with_logits import SigmoidBeforeBceWithLogits
from nnlint.rules.nn204_bce_loss_on_logits import BceLossOnLogits
from nnlint.rules.nn205_unscaled_multi_loss import UnscaledMultiLoss
from nnlint.rules.nn401_dropout_before_batchnorm import DropoutBeforeBatchnorm

ALL_RULES = (
    ParseError,
    UnreadableFile,
    InternalError,
    SoftmaxBeforeCrossEntropy,
    NllLossWithoutLogSoftmax,
    SigmoidBeforeBceWithLogits,
    BceLossOnLogits,
    UnscaledMultiLoss,
    DropoutBeforeBatchnorm,
)
