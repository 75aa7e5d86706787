"""torch functions and tensor methods the rules look for: activations, tensor factories, numerics. No torch import."""

from __future__ import annotations

from nnlint.static.torch_api.names import FUNCTIONAL, NN

# Activation functions that distort raw logits (NN206).
ACTIVATION_FUNCTIONS = frozenset(
    {"torch.celu", "torch.relu", "torch.relu_", "torch.selu", "torch.tanh"}
    | {
        FUNCTIONAL + name
        for name in (
            "celu",
            "elu",
            "gelu",
            "hardswish",
            "hardtanh",
            "leaky_relu",
            "mish",
            "relu",
            "relu6",
            "relu_",
            "selu",
            "silu",
            "softplus",
            "tanh",
        )
    }
)
# Tensor methods that are such activations.
ACTIVATION_METHODS = frozenset({"relu", "relu_", "tanh", "tanh_"})

# Factories that return uninitialised memory (NN305).
EMPTY_FACTORIES = frozenset({"torch.empty", "torch.empty_like", "torch.empty_strided"})
# Legacy tensor types: `torch.Tensor(n, m)` allocates uninitialised memory too (NN305).
LEGACY_TENSOR_TYPES = frozenset(
    {
        "torch.BFloat16Tensor",
        "torch.DoubleTensor",
        "torch.FloatTensor",
        "torch.HalfTensor",
        "torch.Tensor",
        "torch.cuda.DoubleTensor",
        "torch.cuda.FloatTensor",
        "torch.cuda.HalfTensor",
    }
)
# Calls that build a new tensor from Python data, a tensor cut from the graph (NN307).
TENSOR_FROM_DATA = frozenset(
    {"torch.FloatTensor", "torch.Tensor", "torch.as_tensor", "torch.from_numpy", "torch.tensor"}
)
# The module of parameter initialisers (`nn.init.kaiming_normal_`...).
INIT_MODULE = NN + "init."

# The logarithm: -inf at 0 (NN308).
LOG = "torch.log"
# Square roots, by how the message names them: infinite gradient at 0 (NN308).
ROOT_FUNCTIONS = {"torch.rsqrt": "torch.rsqrt", "torch.sqrt": "torch.sqrt"}
# Reductions over a squared difference that still make a squared distance (NN308).
REDUCTIONS = frozenset({"torch.mean", "torch.sum"})
# Squaring, `torch.pow(x, 2)` included (NN308).
SQUARE = "torch.square"
POW = "torch.pow"

# Norms a tensor is divided by to normalise it (NN308: with no eps, a zero vector gives 0/0).
NORM_FUNCTIONS = frozenset({"torch.linalg.norm", "torch.linalg.vector_norm", "torch.norm"})
# Rectifiers: their outputs are exactly 0 over whole rows, so a sum or norm of them can be 0 (NN308).
RECTIFIER_FUNCTIONS = frozenset({"torch.relu", FUNCTIONAL + "relu", FUNCTIONAL + "relu6"})
RECTIFIER_MODULES = frozenset({NN + "ReLU", NN + "ReLU6"})
# Tensor methods that pick entries of a tensor, keeping their values (NN308: picked probabilities are probabilities).
SELECTION_METHODS = frozenset(
    {"gather", "index_select", "masked_select", "reshape", "select", "squeeze", "take_along_dim", "unsqueeze", "view"}
)
SELECTION_FUNCTIONS = frozenset({"torch.gather", "torch.index_select", "torch.masked_select", "torch.take_along_dim"})

# Constant targets mark an adversarial (GAN) term: the loss compares with "all real" / "all fake".
CONSTANT_TARGET_FUNCTIONS = frozenset(
    {"torch.full", "torch.full_like", "torch.ones", "torch.ones_like", "torch.zeros", "torch.zeros_like"}
)
