"""Small models for bench/probe_calibration.py: correct architectures written here, and seeded-bug variants.

Each builder returns `(model, probe keyword arguments)`. The correct ones are the kinds of model a new user
probes first (LSTM/transformer classifiers, regressors with ReLU/sigmoid/softplus outputs, segmentation,
multi-label, GNN layers, multi-input models, BatchNorm at batch 4); the bugs carry one bug each, written
here after the kinds of publicly reported runtime bugs (dead ReLUs, detached parameters, bad initialisation,
NaN), never copied from a report.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Built = Tuple[nn.Module, Dict[str, Any]]


def _ids(batch: int, length: int, vocab: int) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length))


# --- correct models ------------------------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, inputs=20, hidden=64, outputs=5, head: nn.Module = None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, outputs)
        self.head = head if head is not None else nn.Identity()

    def forward(self, x):
        return self.head(self.out(self.net(x)))


class Recommender(nn.Module):
    """Ratings regression: user and item embeddings, an MLP, a ReLU output (ratings are non-negative)."""

    def __init__(self, users=50, items=40, dim=16, head: nn.Module = None):
        super().__init__()
        self.users, self.items = nn.Embedding(users, dim), nn.Embedding(items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 32), nn.ReLU(), nn.Linear(32, 1))
        self.head = head if head is not None else nn.ReLU()

    def forward(self, pairs):
        joined = torch.cat([self.users(pairs[:, 0]), self.items(pairs[:, 1])], dim=1)
        return self.head(self.mlp(joined)).squeeze(1)


def _pairs(batch=16) -> torch.Tensor:
    return torch.stack([torch.randint(0, 50, (batch,)), torch.randint(0, 40, (batch,))], dim=1)


class RNNClassifier(nn.Module):
    def __init__(self, kind="lstm", vocab=100, dim=32, classes=5, bidirectional=False, embed=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim) if embed else nn.Linear(12, dim)
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.rnn = layer(dim, dim, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(dim * (2 if bidirectional else 1), classes)

    def forward(self, x):
        hidden, _ = self.rnn(self.embed(x))
        return self.head(hidden.mean(1) if self.rnn.bidirectional else hidden[:, -1])


class Tagger(nn.Module):
    """Per-token classes: output [B, C, T] for CrossEntropyLoss (a dense sequence task)."""

    def __init__(self, vocab=100, dim=32, tags=7):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * dim, tags)

    def forward(self, x):
        hidden, _ = self.rnn(self.embed(x))
        return self.head(hidden).transpose(1, 2)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab=100, dim=32, classes=4, layers=2, norm_first=False):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.zeros(1, 64, dim))
        layer = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens, padding_mask=None):
        x = self.embed(tokens) + self.position[:, : tokens.shape[1]]
        x = self.encoder(x, src_key_padding_mask=padding_mask)
        return self.head(x.mean(1))


class MaskedTransformer(TransformerClassifier):
    """Keyword inputs: token ids and a padding mask."""


class SmallCNN(nn.Module):
    def __init__(self, classes=10, channels=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class SegNet(nn.Module):
    def __init__(self, classes=3, out_channels=None):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.mid = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.out = nn.Conv2d(32, out_channels or classes, 1)

    def forward(self, x):
        skip = self.down(x)
        x = self.up(self.mid(self.pool(skip)))
        return self.out(torch.cat([x, skip], 1))


class AudioCNN(nn.Module):
    def __init__(self, classes=6):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, 16, 9, stride=2, padding=4),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.Conv1d(16, 32, 9, stride=2, padding=4),
            nn.ReLU(),
            nn.AdaptiveMaxPool1d(1),
        )
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.net(x).flatten(1))


class CharCNN(nn.Module):
    def __init__(self, vocab=60, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, 24)
        self.conv = nn.Conv1d(24, 48, 5, padding=2)
        self.head = nn.Linear(48, classes)

    def forward(self, x):
        return self.head(F.relu(self.conv(self.embed(x).transpose(1, 2))).amax(2))


class DenseGCN(nn.Module):
    """A batched graph convolution: node features [B, N, F], adjacency [B, N, N]; one class per graph."""

    def __init__(self, features=8, hidden=32, classes=3, kind="gcn"):
        super().__init__()
        self.kind = kind
        self.first, self.second = nn.Linear(features, hidden), nn.Linear(hidden, hidden)
        self.attend = nn.Linear(2 * hidden, 1) if kind == "gat" else None
        self.head = nn.Linear(hidden, classes)

    def propagate(self, x, adjacency):
        if self.kind == "gat":
            n = x.shape[1]
            pairs = torch.cat([x.unsqueeze(2).expand(-1, -1, n, -1), x.unsqueeze(1).expand(-1, n, -1, -1)], -1)
            scores = F.leaky_relu(self.attend(pairs).squeeze(-1), 0.2).masked_fill(adjacency == 0, -1e9)
            return torch.softmax(scores, -1) @ x
        if self.kind == "sage":
            return x + adjacency @ x / adjacency.sum(-1, keepdim=True).clamp_min(1)
        degree = adjacency.sum(-1).clamp_min(1).rsqrt()
        return degree.unsqueeze(-1) * (adjacency @ (degree.unsqueeze(-1) * x))

    def forward(self, x, adjacency):
        x = F.relu(self.propagate(self.first(x), adjacency))
        x = F.relu(self.propagate(self.second(x), adjacency))
        return self.head(x.mean(1))


def _graphs(batch=8, nodes=10, features=8) -> Tuple[torch.Tensor, torch.Tensor]:
    adjacency = (torch.rand(batch, nodes, nodes) < 0.3).float()
    adjacency = ((adjacency + adjacency.transpose(1, 2)) > 0).float() + torch.eye(nodes)
    return torch.randn(batch, nodes, features), adjacency.clamp_max(1)


class Multimodal(nn.Module):
    """An image and a caption's token ids: two inputs of different dtypes."""

    def __init__(self, vocab=100, classes=4):
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.text = nn.EmbeddingBag(vocab, 16)
        self.head = nn.Linear(32, classes)

    def forward(self, image, tokens):
        return self.head(torch.cat([self.image(image), self.text(tokens)], 1))


class Siamese(nn.Module):
    """Two inputs through one encoder; a similarity score in [-1, 1] regressed."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16))

    def forward(self, a, b):
        return F.cosine_similarity(self.encoder(a), self.encoder(b))


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encode = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))
        self.decode = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 32), nn.Sigmoid())

    def forward(self, x):
        return self.decode(self.encode(x))


class ResidualMLP(nn.Module):
    def __init__(self, width=64, depth=6, classes=5):
        super().__init__()
        self.inp = nn.Linear(20, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))
            for _ in range(depth)
        )
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        x = self.inp(x)
        for block in self.blocks:
            x = x + block(x)
        return self.out(x)


class BNThenDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 64), nn.ReLU()
        )
        self.out = nn.Linear(64, 5)

    def forward(self, x):
        return self.out(self.net(x))


class AttentionPooling(nn.Module):
    """Softmax over the sequence dimension (not the batch): attention pooling."""

    def __init__(self, vocab=100, dim=32, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.score = nn.Linear(dim, 1)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        h = self.embed(x)
        weights = torch.softmax(self.score(h), dim=1)
        return self.head((weights * h).sum(1))


class ZeroInitHead(nn.Module):
    """A regression head initialised to zero (common for residual-style heads): outputs start identical."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 32), nn.ReLU())
        self.head = nn.Linear(32, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        return self.head(self.body(x))


class TanhRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x)


class StraightThrough(torch.autograd.Function):
    """Rounding with a straight-through gradient: a correct custom Function the gradcheck must accept."""

    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ScaleFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale: float, wrong: bool = False):
        ctx.scale, ctx.wrong = scale, wrong
        return x * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * (1.0 if ctx.wrong else ctx.scale), None, None


class CustomFunctionMLP(nn.Module):
    def __init__(self, wrong=False, straight_through=False):
        super().__init__()
        self.wrong, self.straight_through = wrong, straight_through
        self.first, self.second = nn.Linear(10, 32), nn.Linear(32, 4)

    def forward(self, x):
        h = ScaleFunction.apply(self.first(x), 0.5, self.wrong)
        if self.straight_through:
            h = StraightThrough.apply(h * 4) / 4
        return self.second(F.relu(h))


def correct_models() -> List[Tuple[str, Callable[[], Built]]]:
    """(name, builder) of the correct models written here."""
    return [
        ("mlp classifier", lambda: (MLP(), dict(task="multiclass"))),
        ("mlp multi-label", lambda: (MLP(outputs=6), dict(task="multilabel"))),
        ("mlp binary", lambda: (MLP(outputs=1), dict(task="binary"))),
        ("linear regressor", lambda: (MLP(outputs=3), dict(task="regression"))),
        ("softplus regressor", lambda: (MLP(outputs=1, head=nn.Softplus()), dict(task="regression"))),
        ("relu-output recommender", lambda: (Recommender(), dict(inputs=_pairs(), task="regression"))),
        ("sigmoid-output regressor", lambda: (MLP(outputs=2, head=nn.Sigmoid()), dict(task="regression"))),
        ("exp-output regressor", lambda: (MLP(outputs=1, head=_Exp()), dict(task="regression"))),
        ("tanh regressor", lambda: (TanhRegressor(), dict(task="regression"))),
        ("zero-init regression head", lambda: (ZeroInitHead(), dict(task="regression"))),
        ("lstm classifier", lambda: (RNNClassifier("lstm"), dict(task="multiclass"))),
        (
            "gru classifier (features)",
            lambda: (RNNClassifier("gru", embed=False), dict(inputs=torch.randn(8, 10, 12), task="multiclass")),
        ),
        ("tanh rnn classifier", lambda: (RNNClassifier("rnn"), dict(task="multiclass"))),
        ("bilstm classifier", lambda: (RNNClassifier("lstm", bidirectional=True), dict(task="multiclass"))),
        ("bilstm tagger (dense)", lambda: (Tagger(), dict(inputs=_ids(8, 20, 100), task="multiclass"))),
        ("transformer classifier", lambda: (TransformerClassifier(), dict(task="multiclass"))),
        ("pre-norm transformer", lambda: (TransformerClassifier(norm_first=True), dict(task="multiclass"))),
        (
            "masked transformer (keyword inputs)",
            lambda: (
                MaskedTransformer(),
                dict(
                    inputs={"tokens": _ids(8, 16, 100), "padding_mask": torch.arange(16).expand(8, 16) >= 12},
                    task="multiclass",
                ),
            ),
        ),
        ("attention pooling", lambda: (AttentionPooling(), dict(task="multiclass"))),
        ("char cnn", lambda: (CharCNN(), dict(task="multiclass"))),
        (
            "small cnn, batchnorm at batch 4",
            lambda: (SmallCNN(), dict(inputs=torch.randn(4, 3, 32, 32), task="multiclass")),
        ),
        ("segmentation u-net", lambda: (SegNet(), dict(inputs=torch.randn(4, 3, 32, 32), task="multiclass"))),
        (
            "binary segmentation",
            lambda: (SegNet(out_channels=1), dict(inputs=torch.randn(4, 3, 32, 32), task="binary")),
        ),
        ("audio 1d cnn", lambda: (AudioCNN(), dict(inputs=torch.randn(8, 1, 400), task="multiclass"))),
        ("gcn (dense, batched graphs)", lambda: (DenseGCN(), dict(inputs=_graphs(), task="multiclass"))),
        ("gat layer", lambda: (DenseGCN(kind="gat"), dict(inputs=_graphs(), task="multiclass"))),
        ("graphsage layer", lambda: (DenseGCN(kind="sage"), dict(inputs=_graphs(), task="multiclass"))),
        (
            "multimodal image + text",
            lambda: (Multimodal(), dict(inputs=(torch.randn(8, 3, 32, 32), _ids(8, 12, 100)), task="multiclass")),
        ),
        (
            "siamese similarity",
            lambda: (Siamese(), dict(inputs=(torch.randn(8, 16), torch.randn(8, 16)), task="regression")),
        ),
        ("autoencoder (sigmoid)", lambda: (AutoEncoder(), dict(task="regression"))),
        ("residual mlp + layernorm", lambda: (ResidualMLP(), dict(task="multiclass"))),
        ("batchnorm then dropout", lambda: (BNThenDropout(), dict(task="multiclass"))),
        ("custom autograd function", lambda: (CustomFunctionMLP(), dict(task="multiclass"))),
        ("straight-through estimator", lambda: (CustomFunctionMLP(straight_through=True), dict(task="multiclass"))),
        (
            "mlp with your AdamW",
            lambda: _with_optimizer(MLP(), lambda m: torch.optim.AdamW(m.parameters(), 1e-3, weight_decay=0.01)),
        ),
        (
            "cnn with your SGD",
            lambda: _with_optimizer(
                SmallCNN(), lambda m: torch.optim.SGD(m.parameters(), 0.05, momentum=0.9), torch.randn(8, 3, 32, 32)
            ),
        ),
    ]


class _Exp(nn.Module):
    def forward(self, x):
        return torch.exp(x)


def _with_optimizer(model: nn.Module, make, inputs=None) -> Built:
    kwargs: Dict[str, Any] = dict(task="multiclass", optimizer=make(model))
    if inputs is not None:
        kwargs["inputs"] = inputs
    return model, kwargs


# --- seeded bugs -----------------------------------------------------------------------------------------------


class DetachedMiddle(MLP):
    def forward(self, x):
        return self.out(self.net(x).detach())


class NoGradEncoder(MLP):
    def forward(self, x):
        with torch.no_grad():
            h = self.net(x)
        return self.out(h)


class DataInForward(nn.Module):
    """Uses `.data` of a weight: the parameter never gets a gradient."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(20, 32), nn.Linear(32, 5)

    def forward(self, x):
        return self.second(F.relu(F.linear(x, self.first.weight.data, self.first.bias.data)))


class UnusedBranch(MLP):
    def __init__(self):
        super().__init__()
        self.aux = nn.Linear(64, 5)


class GradientTimesZero(MLP):
    def forward(self, x):
        h = self.net(x)
        return self.out(h) + 0 * h.sum(1, keepdim=True)


def dead_relu_bias() -> Built:
    model = MLP()
    with torch.no_grad():
        model.net[0].bias.fill_(-20.0)
    return model, dict(task="multiclass")


def negative_bias_init() -> Built:
    """Biases initialised to -1 with small weights (a bad custom init): the first ReLU outputs 0 for everything."""
    model = MLP()
    with torch.no_grad():
        model.net[0].weight.normal_(0, 0.01)
        model.net[0].bias.fill_(-1.0)
    return model, dict(task="multiclass")


def exploding_init() -> Built:
    model = MLP()
    with torch.no_grad():
        for layer in (model.net[0], model.net[2], model.out):
            layer.weight.mul_(100.0)
    return model, dict(task="multiclass")


class DeepLinear(nn.Module):
    """Linear layers initialised with std 1 (no 1/sqrt(fan_in)): activations and gradients grow per layer."""

    def __init__(self, depth=8, width=64, std=1.0):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width if i else 20, width) for i in range(depth))
        self.out = nn.Linear(width, 5)
        for layer in self.layers:
            nn.init.normal_(layer.weight, std=std)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.out(x)


class LinearRecurrence(nn.Module):
    """A hand-written recurrence h = W h + U x without a squashing nonlinearity, W initialised with spectral
    radius about 2: gradients grow by 2 per time step on the way back."""

    def __init__(self, features=8, hidden=32, classes=5):
        super().__init__()
        self.inp = nn.Linear(features, hidden)
        self.recurrent = nn.Linear(hidden, hidden, bias=False)
        nn.init.normal_(self.recurrent.weight, std=2.0 / hidden**0.5)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.recurrent.weight.shape[0])
        for t in range(x.shape[1]):
            h = self.recurrent(h) + self.inp(x[:, t])
        return self.out(h)


class DeepSigmoid(nn.Module):
    def __init__(self, depth=12, width=32):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width if i else 20, width) for i in range(depth))
        self.out = nn.Linear(width, 5)
        for layer in self.layers:
            nn.init.normal_(layer.weight, std=0.05)

    def forward(self, x):
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return self.out(x)


def saturated_tanh() -> Built:
    model = TanhRegressor()
    with torch.no_grad():
        model.net[0].weight.mul_(50.0)
    return model, dict(task="regression")


def saturated_sigmoid_inputs() -> Built:
    model = nn.Sequential(nn.Linear(20, 32), nn.Sigmoid(), nn.Linear(32, 5))
    return model, dict(inputs=torch.randn(16, 20) * 100, task="multiclass")


class SoftmaxIntoCE(MLP):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class LogOfNegative(MLP):
    def forward(self, x):
        return torch.log(super().forward(x))


class DivideByZero(MLP):
    def forward(self, x):
        out = super().forward(x)
        return out / (out - out)


class SqrtOfNegative(MLP):
    def forward(self, x):
        return self.out(torch.sqrt(self.net(x) - 1.0))


def large_logits() -> Built:
    model = MLP(outputs=10)
    with torch.no_grad():
        model.out.weight.mul_(300.0)
    return model, dict(task="multiclass")


class BatchMean(MLP):
    """Subtracts the batch mean in forward, in eval mode too: each output depends on the other samples."""

    def forward(self, x):
        h = self.net(x)
        return self.out(h - h.mean(0, keepdim=True))


class SoftmaxOverBatch(AttentionPooling):
    def forward(self, x):
        h = self.embed(x)
        weights = torch.softmax(self.score(h), dim=0)
        return self.head((weights * h).sum(1))


class DropoutIntoBatchNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(64), nn.Linear(64, 5))

    def forward(self, x):
        return self.net(x)


def huge_weight_decay() -> Built:
    model = MLP()
    return model, dict(task="multiclass", optimizer=torch.optim.SGD(model.parameters(), lr=0.01, weight_decay=50.0))


def frozen_group() -> Built:
    model = MLP()
    groups = [{"params": model.net.parameters(), "lr": 0.0}, {"params": model.out.parameters()}]
    return model, dict(task="multiclass", optimizer=torch.optim.SGD(groups, lr=0.01))


def learning_rate_too_high() -> Built:
    model = MLP()
    return model, dict(task="multiclass", optimizer=torch.optim.SGD(model.parameters(), lr=50.0))


def learning_rate_too_low() -> Built:
    model = MLP()
    return model, dict(task="multiclass", optimizer=torch.optim.Adam(model.parameters(), lr=1e-9))


class CosineLogits(nn.Module):
    """Cosine similarities in [-1, 1] as logits over 10 classes, no temperature: the loss cannot fall far."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 32)
        self.classes = nn.Parameter(torch.randn(10, 32))

    def forward(self, x):
        return F.normalize(F.relu(self.hidden(x)), dim=1) @ F.normalize(self.classes, dim=1).t()


def sigmoid_output_unreachable_targets() -> Built:
    """Your targets (ratings 1-5) behind a sigmoid output that cannot exceed 1."""
    return MLP(outputs=1, head=nn.Sigmoid()), dict(targets=torch.randint(1, 6, (16, 1)).float(), task="regression")


class SigmoidLogits(MLP):
    """Sigmoid on the logits of a 20-class CrossEntropyLoss: logits in (0, 1) cannot make any class likely."""

    def __init__(self):
        super().__init__(outputs=20)

    def forward(self, x):
        return torch.sigmoid(super().forward(x))


def frozen_embedding_detach() -> Built:
    class Frozen(RNNClassifier):
        def forward(self, x):
            hidden, _ = self.rnn(self.embed(x).detach())
            return self.head(hidden[:, -1])

    return Frozen(), dict(task="multiclass")


class BiLSTMLastStep(RNNClassifier):
    """The last time step of a bidirectional LSTM: the reverse direction has only seen one token there, so its
    recurrent weights never reach the loss."""

    def __init__(self):
        super().__init__("lstm", bidirectional=True)

    def forward(self, x):
        hidden, _ = self.rnn(self.embed(x))
        return self.head(hidden[:, -1])


def bugs() -> List[Tuple[str, str, Callable[[], Built]]]:
    """(name, the rule that must find it, builder) of the seeded-bug variants."""
    return [
        ("detached hidden layer", "NN312", lambda: (DetachedMiddle(), dict(task="multiclass"))),
        ("encoder under no_grad", "NN312", lambda: (NoGradEncoder(), dict(task="multiclass"))),
        ("weight used through .data", "NN312", lambda: (DataInForward(), dict(task="multiclass"))),
        ("registered but unused branch", "NN312", lambda: (UnusedBranch(), dict(task="multiclass"))),
        ("embedding output detached", "NN312", frozen_embedding_detach),
        ("bilstm read at the last step", "NN312", lambda: (BiLSTMLastStep(), dict(task="multiclass"))),
        ("dead-relu bias", "NN313", dead_relu_bias),
        ("negative bias init", "NN313", negative_bias_init),
        ("exploding init (x100)", "NN316", exploding_init),
        ("deep linear, std-1 init", "NN316", lambda: (DeepLinear(), dict(task="multiclass"))),
        (
            "linear recurrence, radius 2",
            "NN316",
            lambda: (LinearRecurrence(), dict(inputs=torch.randn(16, 20, 8), task="multiclass")),
        ),
        ("deep sigmoid stack", "NN315", lambda: (DeepSigmoid(), dict(task="multiclass"))),
        ("deep linear, tiny init", "NN315", lambda: (DeepLinear(std=0.005), dict(task="multiclass"))),
        ("saturated tanh (x50 init)", "NN314", saturated_tanh),
        ("sigmoid on unscaled inputs", "NN314", saturated_sigmoid_inputs),
        ("softmax into cross-entropy", "NN201", lambda: (SoftmaxIntoCE(), dict(task="multiclass"))),
        ("log of negative logits", "NN317", lambda: (LogOfNegative(), dict(task="multiclass"))),
        ("divide by zero", "NN317", lambda: (DivideByZero(), dict(task="multiclass"))),
        ("sqrt of negative", "NN317", lambda: (SqrtOfNegative(), dict(task="multiclass"))),
        ("logits x300 at init", "NN207", large_logits),
        ("batch mean in forward", "NN309", lambda: (BatchMean(), dict(task="multiclass"))),
        ("softmax over the batch", "NN309", lambda: (SoftmaxOverBatch(), dict(task="multiclass"))),
        ("dropout into batchnorm", "NN401", lambda: (DropoutIntoBatchNorm(), dict(task="multiclass"))),
        ("wrong custom backward", "NN318", lambda: (CustomFunctionMLP(wrong=True), dict(task="multiclass"))),
        ("weight decay 50", "NN208", huge_weight_decay),
        ("param group with lr 0", "NN411", frozen_group),
        ("sgd lr 50", "NN412", learning_rate_too_high),
        ("adam lr 1e-9", "NN412", learning_rate_too_low),
        ("cosine logits, no temperature", "NN101", lambda: (CosineLogits(), dict(task="multiclass"))),
        ("sigmoid output, targets 1-5", "NN101", sigmoid_output_unreachable_targets),
        ("sigmoid on 20-class logits", "NN101", lambda: (SigmoidLogits(), dict(task="multiclass"))),
    ]
