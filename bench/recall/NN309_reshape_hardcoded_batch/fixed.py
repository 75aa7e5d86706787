import torch
import torch.nn as nn


class TokenMixer(nn.Module):
    def __init__(self, tokens=16, dim=32):
        super().__init__()
        self.tokens, self.dim = tokens, dim
        self.mix = nn.Linear(tokens, tokens)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        b = x.size(0)
        y = self.mix(x.transpose(1, 2)).transpose(1, 2)
        return self.out(y.reshape(b, self.tokens, self.dim))
