import torch
import torch.nn as nn


class ThreeLayerNet(nn.Module):
    def __init__(self, d_in=100, hidden=50, d_out=10):
        super().__init__()
        self.d_in, self.hidden, self.d_out = d_in, hidden, d_out
        self.linear3 = nn.Linear(hidden, d_out)

    def forward(self, x):
        h = nn.Linear(self.d_in, self.hidden)(x).clamp(min=0)
        return self.linear3(h)
