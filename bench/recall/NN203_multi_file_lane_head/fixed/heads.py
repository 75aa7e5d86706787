import torch
import torch.nn as nn


class ExistHead(nn.Module):
    def __init__(self, channels=128, lanes=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, lanes)

    def forward(self, feat):
        x = self.pool(feat).flatten(1)
        return self.fc(x)
