"""CenterNet-style heads: the sigmoid is applied in place (`sigmoid_`), then BCELoss / focal loss."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class HeatmapHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c, 80)

    def forward(self, x):
        out = self.fc(x)
        out.sigmoid_()
        return out


head = HeatmapHead(64)
criterion = nn.BCELoss()


def step(x, target):
    pred = head(x)
    return criterion(pred, target)


def step_functional(fc, x, target):
    logits = fc(x)
    torch.sigmoid(logits, out=logits)
    return F.binary_cross_entropy(logits, target)
