"""What the probe measured, as plain Python values (synchronised from the device once per step).

The engine fills these in; the probe rules read them and decide. Locations are absolute paths
with 1-based lines and columns; None where the probe could not tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from nnlint.types import Location

# phases whose completion the checks' outcomes depend on
STEP_ZERO, TRAINING, JUDGED = "step 0", "training", "judged"


@dataclass
class ParamFacts:
    """One trainable parameter: did it get a gradient, how large, did it move."""

    name: str  # `layer1.0.conv1.weight`
    module: str  # `layer1.0.conv1` ("" for the model itself)
    module_type: str
    shape: Tuple[int, ...]
    is_weight: bool  # a weight matrix or kernel (not a bias, norm scale or embedding table)
    order: int = -1  # execution order of its module in forward; -1: the module never ran
    used: bool = False  # passed to a torch function during forward
    had_grad: bool = False  # `.grad` was set by a backward at some step
    nonzero: bool = False  # the gradient was non-zero at some step
    finite: bool = True
    grad_mean_abs: float = 0.0  # at step 0
    grad_max_abs: float = 0.0
    grad_norm: float = 0.0
    weight_norm: float = 0.0
    why_no_grad: Optional[str] = None  # what cut it from the loss, when known
    cut_where: Optional[Location] = None
    changed: Optional[bool] = None  # after the first optimizer step
    update_ratio: Optional[float] = None  # median ||delta||/||theta|| over steps 3-10
    first_update_ratio: Optional[float] = None  # ||delta||/||theta|| of the first step
    in_optimizer: Optional[bool] = None  # None: nnlint's own optimizer
    lr: Optional[float] = None


@dataclass
class ActivationSite:
    """One call site of relu/sigmoid/tanh in forward, with statistics over every sample seen."""

    key: str
    kind: str  # relu | sigmoid | tanh
    label: str  # how a message names it: "`self.relu` (ReLU)", "`F.relu` in `Block.forward`"
    module: str  # the running module's path
    where: Optional[Location]
    units: int = 0
    samples: int = 0
    dead_units: int = 0  # relu: <= 0 for every sample
    saturated_units: int = 0  # sigmoid/tanh: |pre-activation| >= 5 for >= 95% of samples
    after: str = ""  # the layer that fed it, for messages
    mean: float = 0.0
    std: float = 0.0
    name: str = ""  # short name for the per-layer table
    position: int = 0  # leaf layers with parameters that ran before it


@dataclass
class LossFacts:
    """The loss at step 0 and what a freshly initialised model should get."""

    task: Optional[str]
    loss_name: str
    initial: float = float("nan")
    expected: Optional[float] = None  # the chance level
    expected_why: str = ""
    from_prior: bool = False  # the chance level is the entropy of the user's binary labels' prior
    classes: Optional[int] = None
    probabilities: bool = False  # the outputs are rows of probabilities
    log_softmax_loss: bool = False  # the loss applies log-softmax itself (CrossEntropyLoss)
    softmax_where: Optional[Location] = None
    output_module: str = ""  # the last layer with parameters that ran: usually the one producing the output
    output_range: Optional[Tuple[float, float, str]] = None  # (low, high, what) of a squashing op making the output


@dataclass
class OverfitResult:
    """Training on a few samples with dropout and weight decay off: can the model memorise them?"""

    status: str = "skipped"  # passed | failed | inconclusive | skipped
    reason: str = ""
    samples: int = 0
    steps: int = 0
    initial_loss: float = float("nan")
    final_loss: float = float("nan")
    best_loss: float = float("nan")
    accuracy: Optional[float] = None
    seconds: float = 0.0
    losses: List[float] = field(default_factory=list)
    lr: float = 0.0  # of the probe's Adam in this run
    tried: List[Tuple[float, str, float]] = field(default_factory=list)  # the sweep: (lr, status, best loss)
    floor: str = ""  # why the loss cannot reach the criterion, when the probe can tell


@dataclass
class MixingResult:
    """Batch independence in eval mode: does output i depend on sample j != i?"""

    checked: bool = False
    reason: str = ""
    mixed: bool = False
    samples: int = 0
    culprit: str = ""
    culprit_where: Optional[Location] = None


@dataclass
class NonFinite:
    """The first NaN/Inf the probe saw: where, in which phase, and what produced it."""

    phase: str  # "the input batch" | "forward" | "the loss" | "backward"
    step: int
    what: str
    where: Optional[Location]


@dataclass
class GradcheckResult:
    """A custom autograd.Function's backward compared with finite differences in float64."""

    name: str
    where: Optional[Location]
    relative_error: Optional[float] = None
    note: str = ""  # why it was not judged (straight-through estimator, gradient reversal, ...)


@dataclass
class VarianceShift:
    """A BatchNorm fed by dropout: eval-mode input variance over the train-mode one it normalises with."""

    label: str
    where: Optional[Location]
    ratio: float
    dropout: str


@dataclass
class Regularization:
    """The regularization and data terms of the loss at the start and the end of the probe's steps."""

    source: str  # "weight_decay=0.1 in your optimizer" | "the loss terms `l2`"
    initial_reg: float
    initial_data: float
    final_reg: Optional[float] = None
    final_data: Optional[float] = None


@dataclass
class Facts:
    """Everything one probe measured."""

    params: List[ParamFacts] = field(default_factory=list)
    activations: List[ActivationSite] = field(default_factory=list)
    layer_outputs: Dict[str, Tuple[float, float]] = field(default_factory=dict)  # module -> (mean, std)
    loss: Optional[LossFacts] = None
    overfit: OverfitResult = field(default_factory=OverfitResult)
    mixing: MixingResult = field(default_factory=MixingResult)
    nonfinite: Optional[NonFinite] = None
    gradchecks: List[GradcheckResult] = field(default_factory=list)
    variance_shifts: List[VarianceShift] = field(default_factory=list)
    regularization: Optional[Regularization] = None
    user_optimizer: bool = False
    optimizer_steps: int = 0
    statuses: Dict[str, str] = field(default_factory=dict)  # code -> why a check was skipped or inconclusive
    completed: Set[str] = field(default_factory=set)  # phases that ran to the end: STEP_ZERO, TRAINING, JUDGED
    # a real training run (`nnlint.watch`): mean loss per window of steps (first step, last step, mean)
    loss_curve: List[Tuple[int, int, float]] = field(default_factory=list)
    loss_floor: Optional[Tuple[float, str]] = None  # the lowest loss the output's range allows on the real targets
