"""ALL_RULES: every rule nnlint has, listed explicitly and sorted by code."""

from nnlint.rules.nn001_parse_error import ParseError
from nnlint.rules.nn002_unreadable_file import UnreadableFile
from nnlint.rules.nn003_internal_error import InternalError
from nnlint.rules.nn004_unsupported_syntax import UnsupportedSyntax
from nnlint.rules.nn005_file_too_large import FileTooLarge
from nnlint.rules.nn010_model_import_failed import ModelImportFailed
from nnlint.rules.nn011_model_construction_failed import ModelConstructionFailed
from nnlint.rules.nn012_model_not_runnable import ModelNotRunnable
from nnlint.rules.nn013_model_run_aborted import ModelRunAborted
from nnlint.rules.nn014_model_input_unknown import ModelInputUnknown
from nnlint.rules.nn101_cannot_overfit_batch import CannotOverfitBatch
from nnlint.rules.nn102_loss_not_decreasing import LossNotDecreasing
from nnlint.rules.nn201_softmax_before_cross_entropy import SoftmaxBeforeCrossEntropy
from nnlint.rules.nn202_nll_loss_without_log_softmax import NllLossWithoutLogSoftmax
from nnlint.rules.nn203_sigmoid_before_bce_with_logits import SigmoidBeforeBceWithLogits
from nnlint.rules.nn204_bce_loss_on_logits import BceLossOnLogits
from nnlint.rules.nn205_unscaled_multi_loss import UnscaledMultiLoss
from nnlint.rules.nn206_activation_after_logits import ActivationAfterLogits
from nnlint.rules.nn207_initial_loss_far_from_chance import InitialLossFarFromChance
from nnlint.rules.nn208_regularization_dominates_loss import RegularizationDominatesLoss
from nnlint.rules.nn301_shape_mismatch import ShapeMismatch
from nnlint.rules.nn302_unregistered_submodule import UnregisteredSubmodule
from nnlint.rules.nn303_unused_submodule import UnusedSubmodule
from nnlint.rules.nn304_module_created_in_forward import ModuleCreatedInForward
from nnlint.rules.nn305_uninitialized_parameter import UninitializedParameter
from nnlint.rules.nn306_forward_called_directly import ForwardCalledDirectly
from nnlint.rules.nn307_detached_in_forward import DetachedInForward
from nnlint.rules.nn308_nan_prone_op import NanProneOp
from nnlint.rules.nn309_batch_dimension_mixing import BatchDimensionMixing
from nnlint.rules.nn310_view_instead_of_permute import ViewInsteadOfPermute
from nnlint.rules.nn311_discarded_result import DiscardedResult
from nnlint.rules.nn312_parameter_without_gradient import ParameterWithoutGradient
from nnlint.rules.nn313_dead_relu import DeadRelu
from nnlint.rules.nn314_saturated_activation import SaturatedActivation
from nnlint.rules.nn315_vanishing_gradient import VanishingGradient
from nnlint.rules.nn316_exploding_gradient import ExplodingGradient
from nnlint.rules.nn317_non_finite_values import NonFiniteValues
from nnlint.rules.nn318_gradcheck_mismatch import GradcheckMismatch
from nnlint.rules.nn401_dropout_before_batchnorm import DropoutBeforeBatchnorm
from nnlint.rules.nn402_bias_before_batchnorm import BiasBeforeBatchnorm
from nnlint.rules.nn403_missing_zero_grad import MissingZeroGrad
from nnlint.rules.nn404_step_order import StepOrder
from nnlint.rules.nn405_missing_eval_mode import MissingEvalMode
from nnlint.rules.nn406_missing_train_mode import MissingTrainMode
from nnlint.rules.nn407_missing_no_grad_in_eval import MissingNoGradInEval
from nnlint.rules.nn408_functional_dropout_without_training import FunctionalDropoutWithoutTraining
from nnlint.rules.nn409_loss_accumulated_with_graph import LossAccumulatedWithGraph
from nnlint.rules.nn410_optimizer_missing_params import OptimizerMissingParams
from nnlint.rules.nn411_parameter_not_updated import ParameterNotUpdated
from nnlint.rules.nn412_update_ratio_out_of_range import UpdateRatioOutOfRange
from nnlint.rules.nn501_unseeded_randomness import UnseededRandomness
from nnlint.rules.nn502_baseline_drift import BaselineDrift

ALL_RULES = (
    ParseError,
    UnreadableFile,
    InternalError,
    UnsupportedSyntax,
    FileTooLarge,
    ModelImportFailed,
    ModelConstructionFailed,
    ModelNotRunnable,
    ModelRunAborted,
    ModelInputUnknown,
    CannotOverfitBatch,
    LossNotDecreasing,
    SoftmaxBeforeCrossEntropy,
    NllLossWithoutLogSoftmax,
    SigmoidBeforeBceWithLogits,
    BceLossOnLogits,
    UnscaledMultiLoss,
    ActivationAfterLogits,
    InitialLossFarFromChance,
    RegularizationDominatesLoss,
    ShapeMismatch,
    UnregisteredSubmodule,
    UnusedSubmodule,
    ModuleCreatedInForward,
    UninitializedParameter,
    ForwardCalledDirectly,
    DetachedInForward,
    NanProneOp,
    BatchDimensionMixing,
    ViewInsteadOfPermute,
    DiscardedResult,
    ParameterWithoutGradient,
    DeadRelu,
    SaturatedActivation,
    VanishingGradient,
    ExplodingGradient,
    NonFiniteValues,
    GradcheckMismatch,
    DropoutBeforeBatchnorm,
    BiasBeforeBatchnorm,
    MissingZeroGrad,
    StepOrder,
    MissingEvalMode,
    MissingTrainMode,
    MissingNoGradInEval,
    FunctionalDropoutWithoutTraining,
    LossAccumulatedWithGraph,
    OptimizerMissingParams,
    ParameterNotUpdated,
    UpdateRatioOutOfRange,
    UnseededRandomness,
    BaselineDrift,
)
