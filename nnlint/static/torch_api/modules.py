"""torch.nn layers by what they hold (parameters, nothing, other modules), and nn.Module bases. No torch import."""

from __future__ import annotations

from nnlint.static.torch_api.names import NN

# The base class of every layer.
MODULE = NN + "Module"
# The ordered container: its layers run one after the other.
SEQUENTIAL = NN + "Sequential"
# A trainable tensor, and every spelling under which it is imported.
PARAMETER = NN + "Parameter"
PARAMETER_SPELLINGS = frozenset({PARAMETER, NN + "parameter.Parameter"})

# Layers that own parameters when built with their default arguments (`affine=False` and friends switch them off).
PARAMETERIZED = frozenset(
    NN + name
    for name in (
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "Bilinear",
        "Conv1d",
        "Conv2d",
        "Conv3d",
        "ConvTranspose1d",
        "ConvTranspose2d",
        "ConvTranspose3d",
        "Embedding",
        "EmbeddingBag",
        "GRU",
        "GRUCell",
        "GroupNorm",
        "LSTM",
        "LSTMCell",
        "LayerNorm",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "LazyBatchNorm3d",
        "LazyConv1d",
        "LazyConv2d",
        "LazyConv3d",
        "LazyConvTranspose1d",
        "LazyConvTranspose2d",
        "LazyConvTranspose3d",
        "LazyInstanceNorm1d",
        "LazyInstanceNorm2d",
        "LazyInstanceNorm3d",
        "LazyLinear",
        "Linear",
        "MultiheadAttention",
        "PReLU",
        "RMSNorm",
        "RNN",
        "RNNCell",
        "SyncBatchNorm",
        "Transformer",
        "TransformerDecoder",
        "TransformerDecoderLayer",
        "TransformerEncoder",
        "TransformerEncoderLayer",
    )
)
# Layers that own parameters only when built with `affine=True` (their default is False; the lazy ones default to True).
AFFINE_OPTIONAL = frozenset(NN + name for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"))
# Containers: they own nothing themselves but hold layers or parameters.
CONTAINERS = frozenset(
    NN + name for name in ("ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential")
)
# Containers whose order says nothing about the order of execution.
UNORDERED_CONTAINERS = frozenset(NN + name for name in ("ModuleDict", "ModuleList", "ParameterList"))
# What may hold parameters (NN410): a layer that owns them by default or with affine=True, or a container.
MAY_HOLD_PARAMETERS = PARAMETERIZED | AFFINE_OPTIONAL | CONTAINERS

# Layers with neither parameters nor buffers nor train/eval behaviour: harmless anywhere.
STATELESS = frozenset(
    NN + name
    for name in (
        "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d",
        "AdaptiveAvgPool3d",
        "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d",
        "AdaptiveMaxPool3d",
        "AvgPool1d",
        "AvgPool2d",
        "AvgPool3d",
        "CELU",
        "ChannelShuffle",
        "CircularPad1d",
        "CircularPad2d",
        "CircularPad3d",
        "ConstantPad1d",
        "ConstantPad2d",
        "ConstantPad3d",
        "CosineSimilarity",
        "ELU",
        "Flatten",
        "Fold",
        "GELU",
        "GLU",
        "Hardshrink",
        "Hardsigmoid",
        "Hardswish",
        "Hardtanh",
        "Identity",
        "LPPool1d",
        "LPPool2d",
        "LeakyReLU",
        "LogSigmoid",
        "LogSoftmax",
        "MaxPool1d",
        "MaxPool2d",
        "MaxPool3d",
        "Mish",
        "PairwiseDistance",
        "PixelShuffle",
        "PixelUnshuffle",
        "ReLU",
        "ReLU6",
        "ReflectionPad1d",
        "ReflectionPad2d",
        "ReflectionPad3d",
        "ReplicationPad1d",
        "ReplicationPad2d",
        "ReplicationPad3d",
        "SELU",
        "SiLU",
        "Sigmoid",
        "Softmax",
        "Softmax2d",
        "Softmin",
        "Softplus",
        "Softshrink",
        "Softsign",
        "Tanh",
        "Tanhshrink",
        "Threshold",
        "Unflatten",
        "Unfold",
        "Upsample",
        "UpsamplingBilinear2d",
        "UpsamplingNearest2d",
        "ZeroPad1d",
        "ZeroPad2d",
        "ZeroPad3d",
    )
)
# Activation layers that distort raw logits (sigmoid and softmax have rules of their own: NN201, NN203).
ACTIVATION_MODULES = frozenset(
    NN + name
    for name in (
        "CELU",
        "ELU",
        "GELU",
        "Hardswish",
        "Hardtanh",
        "LeakyReLU",
        "Mish",
        "ReLU",
        "ReLU6",
        "SELU",
        "SiLU",
        "Softplus",
        "Tanh",
    )
)
# Position of `bias` in the constructor of layers that have one: Linear(in, out, bias), Conv2d(in,
# out, kernel_size, stride, padding, dilation, groups, bias), ConvTranspose2d(..., groups, bias, dilation).
BIAS_POSITION = {
    NN + "Linear": 2,
    NN + "LazyLinear": 1,
    **{NN + f"Conv{d}d": 7 for d in (1, 2, 3)},
    **{NN + f"ConvTranspose{d}d": 7 for d in (1, 2, 3)},
    **{NN + f"LazyConv{d}d": 6 for d in (1, 2, 3)},
    **{NN + f"LazyConvTranspose{d}d": 6 for d in (1, 2, 3)},
}
# Layers that build without arguments (zero-config graph discovery: a subclass needs no sizes from its base).
NO_ARGUMENT_MODULES = frozenset(
    NN + name
    for name in ("Identity", "Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential")
)
# Functions that take a module and return it, reparametrised.
MODULE_WRAPPERS = frozenset(
    NN + name
    for name in (
        "utils.parametrizations.orthogonal",
        "utils.parametrizations.spectral_norm",
        "utils.parametrizations.weight_norm",
        "utils.spectral_norm",
        "utils.weight_norm",
    )
)
# Wrappers whose forward is the wrapped model's: what the model returns, the wrapper returns.
MODEL_WRAPPERS = frozenset(
    {
        NN + "DataParallel",
        NN + "parallel.DataParallel",
        NN + "parallel.DistributedDataParallel",
        NN + "parallel.data_parallel.DataParallel",
        NN + "parallel.distributed.DistributedDataParallel",
        "torch.compile",
        "torch.distributed.fsdp.FullyShardedDataParallel",
        "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel",
    }
)
# Capitalised names in torch.nn that are not modules.
NOT_MODULES = frozenset(NN + name for name in ("Buffer", "UninitializedBuffer", "UninitializedParameter"))
# torch classes outside torch.nn that are nn.Modules.
TORCH_MODULE_BASES = frozenset({"torch.fx.GraphModule", "torch.jit.ScriptModule"})
# Third-party bases that are nn.Modules (not torch: the resolve test leaves them out).
LIGHTNING_MODULE_BASES = frozenset(
    {
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
    }
)
# Third-party methods that return their arguments wrapped, in order (`model, opt = accelerator.prepare(model, opt)`):
# class -> method. The returned model's forward is the model's.
PREPARING_METHODS = {
    "accelerate.Accelerator": "prepare",
    "lightning.Fabric": "setup",
    "lightning.fabric.Fabric": "setup",
    "lightning_fabric.Fabric": "setup",
}
# torch packages whose classes are surely not nn.Modules.
TORCH_NON_MODULE_PACKAGES = ("torch.autograd.", "torch.distributions.", "torch.optim.", "torch.utils.data.")
