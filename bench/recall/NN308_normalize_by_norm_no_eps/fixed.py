import torch
import torch.nn as nn


class VNBatchNorm(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm1d(channels)

    def forward(self, x):
        norm = torch.norm(x, dim=2)
        norm_bn = self.bn(norm)
        return x / (norm.unsqueeze(2) + 1e-6) * norm_bn.unsqueeze(2)
