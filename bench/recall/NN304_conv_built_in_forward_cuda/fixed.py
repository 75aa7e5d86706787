import torch
import torch.nn as nn


class SoftPool(nn.Module):
    def __init__(self, regions=16, channels=64):
        super().__init__()
        self.regions = regions
        self.conv = nn.Conv2d(channels, channels, kernel_size=(1, 3))

    def forward(self, x):
        batch, feat, points = x.shape
        y = self.conv(x.unsqueeze(2))
        return y.squeeze(2).max(dim=-1).values
