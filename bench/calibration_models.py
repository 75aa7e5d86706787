"""Correct models of the kinds torchvision and timm do not cover, written here for bench/graph_calibration.py.

Each class builds with its defaults; those with a `bug` argument have a seeded-bug twin (`bug=True`): one
wiring mistake of the kind users report (a layer sized for the wrong input, a skip connection concatenated
with the wrong width), so the calibration measures recall as well as false alarms. The shapes each model
takes when configured are in `CONFIGURED` of bench/graph_calibration.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- volumes and images ---------------------------------------------------------------------------------


def _double_conv3d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
        nn.Conv3d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
    )


class UNet3D(nn.Module):
    """A 3-level 3D U-Net for volumetric segmentation (medical imaging)."""

    def __init__(self, in_channels: int = 1, classes: int = 3, base: int = 8, bug: bool = False) -> None:
        super().__init__()
        self.enc1 = _double_conv3d(in_channels, base)
        self.enc2 = _double_conv3d(base, base * 2)
        self.bottom = _double_conv3d(base * 2, base * 4)
        self.up2 = nn.ConvTranspose3d(base * 4, base * 2, 2, stride=2)
        self.dec2 = _double_conv3d(base * 4 if not bug else base * 2, base * 2)
        self.up1 = nn.ConvTranspose3d(base * 2, base, 2, stride=2)
        self.dec1 = _double_conv3d(base * 2, base)
        self.head = nn.Conv3d(base, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool3d(e1, 2))
        b = self.bottom(F.max_pool3d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


class _UpBlock(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(cout + skip, cout, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor, skip: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.up(x)
        if isinstance(skip, torch.Tensor):  # fx passes proxies here: only eager execution concatenates
            x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class UNet2D(nn.Module):
    """A 2D U-Net whose decoder blocks take an optional skip (the fx/eager disagreement of issue 14)."""

    def __init__(self, in_channels: int = 1, classes: int = 2, base: int = 16, bug: bool = False) -> None:
        super().__init__()
        self.inc = nn.Sequential(nn.Conv2d(in_channels, base, 3, padding=1), nn.ReLU())
        self.down1 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(base, base * 2, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(base * 2, base * 4, 3, padding=1), nn.ReLU())
        self.up1 = _UpBlock(base * 4, base * 2, base * 2)
        self.up2 = _UpBlock(base * 2, base, base)
        self.head = nn.Conv2d(base if not bug else base * 2, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        return self.head(self.up2(self.up1(x3, x2), x1))


class ResidualNet(nn.Module):
    """A small ResNet; the twin forgets the projection on the shortcut where the width changes."""

    def __init__(self, classes: int = 10, bug: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.conv1 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32)) if not bug else nn.Identity()
        )
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class ConvAutoencoder(nn.Module):
    """An image autoencoder; the twin's decoder starts from the wrong width."""

    def __init__(self, bug: bool = False) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32 if not bug else 16, 16, 2, 2), nn.ReLU(), nn.ConvTranspose2d(16, 3, 2, 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.encoder(x)))


class VAE(nn.Module):
    """A fully connected VAE returning (reconstruction, mu, logvar); the twin's decoder takes the wrong latent."""

    def __init__(self, features: int = 784, latent: int = 16, bug: bool = False) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(features, 128), nn.ReLU())
        self.mu = nn.Linear(128, latent)
        self.logvar = nn.Linear(128, latent)
        self.dec = nn.Sequential(nn.Linear(latent if not bug else 2 * latent, 128), nn.ReLU(), nn.Linear(128, features))

    def forward(self, x: torch.Tensor):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.dec(z)), mu, logvar


class PointNet(nn.Module):
    """PointNet-style classifier on [B, 3, N] point clouds."""

    def __init__(self, classes: int = 10, bug: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(3, 64, 1), nn.ReLU(), nn.Conv1d(64, 256, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(256 if not bug else 64, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(points).max(dim=2).values)


class AudioCNN(nn.Module):
    """A 1-d convolutional keyword spotter on raw audio [B, 1, T]."""

    def __init__(self, classes: int = 12) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, 16, 80, stride=16), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(16, 32, 3), nn.BatchNorm1d(32), nn.ReLU(), nn.AdaptiveAvgPool1d(1),
        )  # fmt: skip
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x).squeeze(-1))


class SiameseNet(nn.Module):
    """Two images through one encoder, compared by a head: `forward(self, x1, x2)`."""

    def __init__(self, bug: bool = False) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16 if not bug else 8, 1)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.encoder(x1), self.encoder(x2)], dim=1))


# --- diffusion -----------------------------------------------------------------------------------------


class TimeEmbedding(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.SiLU(), nn.Linear(dim * 4, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / half)
        angles = t.float()[:, None] * freqs[None]
        return self.mlp(torch.cat([angles.sin(), angles.cos()], dim=1))


class DiffusionUNet(nn.Module):
    """A denoiser `forward(self, x, t)` with a sinusoidal timestep embedding added to its features."""

    def __init__(self, channels: int = 3, base: int = 32, bug: bool = False) -> None:
        super().__init__()
        self.time = TimeEmbedding(base)
        self.inc = nn.Conv2d(channels, base, 3, padding=1)
        self.down = nn.Conv2d(base, base * 2, 3, 2, 1)
        self.time_proj = nn.Linear(base, base * 2 if not bug else base)
        self.up = nn.ConvTranspose2d(base * 2, base, 2, 2)
        self.out = nn.Conv2d(base * 2, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h1 = F.silu(self.inc(x))
        h2 = F.silu(self.down(h1)) + self.time_proj(self.time(t))[:, :, None, None]
        return self.out(torch.cat([self.up(h2), h1], dim=1))


# --- graphs ----------------------------------------------------------------------------------------------


class _EdgeConv(nn.Module):
    """Mean of neighbours' transformed features over an edge_index (PyG's convention), plus a root weight."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.neighbour = nn.Linear(cin, cout)
        self.root = nn.Linear(cin, cout)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        source, target = edge_index[0], edge_index[1]
        messages = self.neighbour(x).index_select(0, source)
        summed = torch.zeros(x.size(0), messages.size(1), device=x.device, dtype=messages.dtype)
        summed = summed.index_add(0, target, messages)
        degree = torch.zeros(x.size(0), device=x.device).index_add(0, target, torch.ones_like(target, dtype=x.dtype))
        return self.root(x) + summed / degree.clamp(min=1).unsqueeze(1)


class EdgeIndexGNN(nn.Module):
    """A two-layer node classifier over `edge_index`."""

    def __init__(self, features: int = 16, hidden: int = 32, classes: int = 4, bug: bool = False) -> None:
        super().__init__()
        self.conv1 = _EdgeConv(features, hidden)
        self.conv2 = _EdgeConv(hidden if not bug else features, classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


class EdgeAttentionGNN(nn.Module):
    """A GAT-like layer: attention scores per edge, softmax-free normalisation by scatter."""

    def __init__(self, features: int = 16, hidden: int = 16, classes: int = 3) -> None:
        super().__init__()
        self.lin = nn.Linear(features, hidden, bias=False)
        self.score = nn.Linear(2 * hidden, 1)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = self.lin(x)
        src, dst = edge_index
        weights = torch.exp(F.leaky_relu(self.score(torch.cat([h[src], h[dst]], dim=1)), 0.2))
        total = torch.zeros(x.size(0), 1, device=x.device).index_add(0, dst, weights)
        agg = torch.zeros_like(h).index_add(0, dst, weights * h[src]) / total.clamp(min=1e-9)
        return self.out(F.elu(agg))


class DenseGCN(nn.Module):
    """Kipf & Welling's GCN on a dense normalised adjacency: `forward(self, x, adj)`."""

    def __init__(self, features: int = 16, hidden: int = 32, classes: int = 4, bug: bool = False) -> None:
        super().__init__()
        self.w1 = nn.Linear(features, hidden)
        self.w2 = nn.Linear(hidden if not bug else classes, classes)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        h = F.relu(adj @ self.w1(x))
        return adj @ self.w2(h)


# --- sequences -----------------------------------------------------------------------------------------


class Seq2SeqTransformer(nn.Module):
    """nn.Transformer translation model: `forward(self, src, tgt, src_mask=None, tgt_mask=None)`."""

    def __init__(self, src_vocab: int = 100, tgt_vocab: int = 120, dim: int = 32, bug: bool = False) -> None:
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, dim)
        self.tgt_embed = nn.Embedding(tgt_vocab, dim)
        self.transformer = nn.Transformer(dim, 4, 2, 2, 64, batch_first=True)
        self.generator = nn.Linear(dim if not bug else 2 * dim, tgt_vocab)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, src_padding_mask=None):
        out = self.transformer(
            self.src_embed(src), self.tgt_embed(tgt), src_mask, tgt_mask, src_key_padding_mask=src_padding_mask
        )
        return self.generator(out)


class MaskedEncoder(nn.Module):
    """A text encoder whose forward requires a padding mask: `forward(self, tokens, padding_mask)`."""

    def __init__(self, vocab: int = 100, dim: int = 32, classes: int = 5) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True), 2)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(tokens), src_key_padding_mask=padding_mask)
        return self.head(h.mean(1))


class HFStyleClassifier(nn.Module):
    """`forward(input_ids, attention_mask=None, labels=None)` as Hugging Face models write it."""

    def __init__(self, vocab: int = 200, dim: int = 32, classes: int = 3, bug: bool = False) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(64, dim)
        self.layer = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True)
        self.pooler = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim if not bug else dim // 2, classes)

    def forward(self, input_ids, attention_mask=None, labels=None):
        positions = torch.arange(input_ids.size(1), device=input_ids.device)
        hidden = self.embeddings(input_ids) + self.position(positions)
        padding = attention_mask == 0 if attention_mask is not None else None
        hidden = self.layer(hidden, src_key_padding_mask=padding)
        logits = self.classifier(torch.tanh(self.pooler(hidden[:, 0])))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


@dataclass
class GPTConfig:
    vocab: int = 128
    block: int = 64
    dim: int = 32
    heads: int = 4
    layers: int = 2


class _CausalBlock(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.dim)
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)
        self.ln2 = nn.LayerNorm(config.dim)
        self.mlp = nn.Sequential(
            nn.Linear(config.dim, 4 * config.dim), nn.GELU(), nn.Linear(4 * config.dim, config.dim)
        )
        self.heads = config.heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class CausalLM(nn.Module):
    """A GPT-2-style decoder with nanoGPT's signature: a config object, `forward(self, idx, targets=None)`."""

    def __init__(self, config: Optional[GPTConfig] = None, bug: bool = False) -> None:
        super().__init__()
        config = config or GPTConfig()
        self.config = config
        self.wte = nn.Embedding(config.vocab, config.dim)
        self.wpe = nn.Embedding(config.block, config.dim)
        self.blocks = nn.ModuleList([_CausalBlock(config) for _ in range(config.layers)])
        self.ln_f = nn.LayerNorm(config.dim if not bug else config.dim * 2)
        self.head = nn.Linear(config.dim, config.vocab, bias=False)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.config.block, f"sequence of {t} tokens is longer than the block size {self.config.block}"
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        if targets is None:
            return self.head(x[:, [-1], :]), None
        logits = self.head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


class LSTMTagger(nn.Module):
    """A bidirectional LSTM tagger; the twin's output layer forgets the second direction."""

    def __init__(self, vocab: int = 100, dim: int = 16, hidden: int = 32, tags: int = 9, bug: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden if not bug else hidden, tags)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(self.embed(tokens))
        return self.out(output)


class GRUForecaster(nn.Module):
    """A GRU over [B, T, F] sensor readings predicting the next step."""

    def __init__(self, features: int = 6, hidden: int = 32) -> None:
        super().__init__()
        self.gru = nn.GRU(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, features)

    def forward(self, series: torch.Tensor) -> torch.Tensor:
        output, _ = self.gru(series)
        return self.head(output[:, -1])


# --- multimodal ----------------------------------------------------------------------------------------


class TextImageMatcher(nn.Module):
    """A CLIP-like dual encoder: `forward(self, input_ids, pixel_values)` -> similarity logits."""

    def __init__(self, vocab: int = 100, dim: int = 32, bug: bool = False) -> None:
        super().__init__()
        self.token = nn.Embedding(vocab, dim)
        self.text = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True)
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.vision = nn.TransformerEncoderLayer(dim, 4, 64, batch_first=True)
        self.text_proj = nn.Linear(dim, 16)
        self.image_proj = nn.Linear(dim if not bug else 16, 16)

    def forward(self, input_ids: torch.Tensor, pixel_values: torch.Tensor) -> torch.Tensor:
        text = self.text_proj(self.text(self.token(input_ids)).mean(1))
        patches = self.patch(pixel_values).flatten(2).transpose(1, 2)
        image = self.image_proj(self.vision(patches).mean(1))
        return F.normalize(text, dim=-1) @ F.normalize(image, dim=-1).t()


class VisualQuestionAnswering(nn.Module):
    """Image and question fused by concatenation: `forward(self, image, question)`."""

    def __init__(self, vocab: int = 100, answers: int = 20, bug: bool = False) -> None:
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embed = nn.Embedding(vocab, 16)
        self.rnn = nn.GRU(16, 32, batch_first=True)
        self.classifier = nn.Linear(48 if not bug else 32, answers)

    def forward(self, image: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        _, h = self.rnn(self.embed(question))
        return self.classifier(torch.cat([self.cnn(image), h[-1]], dim=1))


class MultiTaskNet(nn.Module):
    """A shared trunk with two heads returned in a dict."""

    def __init__(self, bug: bool = False) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.classify = nn.Linear(64, 5)
        self.regress = nn.Linear(64 if not bug else 20, 1)

    def forward(self, x: torch.Tensor):
        h = self.trunk(x)
        return {"class": self.classify(h), "value": self.regress(h)}


class MixerBlockNet(nn.Module):
    """An MLP-Mixer on 32x32 images: token mixing transposes patches and channels."""

    def __init__(self, patch: int = 4, dim: int = 32, classes: int = 10, bug: bool = False) -> None:
        super().__init__()
        tokens = (32 // patch) ** 2
        self.stem = nn.Conv2d(3, dim, patch, patch)
        self.norm1 = nn.LayerNorm(dim)
        self.token_mix = nn.Sequential(nn.Linear(tokens if not bug else dim, 64), nn.GELU(), nn.Linear(64, tokens))
        self.norm2 = nn.LayerNorm(dim)
        self.channel_mix = nn.Sequential(nn.Linear(dim, 64), nn.GELU(), nn.Linear(64, dim))
        self.head = nn.Linear(dim, classes)
        self.img_size = 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x).flatten(2).transpose(1, 2)
        x = x + self.token_mix(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        x = x + self.channel_mix(self.norm2(x))
        return self.head(x.mean(1))
