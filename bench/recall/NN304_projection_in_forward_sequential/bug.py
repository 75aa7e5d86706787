import torch
import torch.nn as nn
import torch.nn.functional as F


class AngularPenaltyLoss(nn.Module):
    def __init__(self, in_features, out_features, scale=30.0):
        super().__init__()
        self.in_features, self.out_features, self.scale = in_features, out_features, scale

    def forward(self, x, labels):
        fc = nn.Sequential(nn.Linear(self.in_features, self.out_features, bias=False))
        logits = fc(F.normalize(x, dim=1)) * self.scale
        return F.cross_entropy(logits, labels)
