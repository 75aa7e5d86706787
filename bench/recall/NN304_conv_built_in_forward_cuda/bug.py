import torch
import torch.nn as nn


class SoftPool(nn.Module):
    def __init__(self, regions=16):
        super().__init__()
        self.regions = regions

    def forward(self, x):
        batch, feat, points = x.shape
        conv = nn.Conv2d(feat, feat, kernel_size=(1, 3)).to(x.device)
        y = conv(x.unsqueeze(2))
        return y.squeeze(2).max(dim=-1).values
