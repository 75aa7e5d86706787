# NN203 false positive: the sigmoid is on a branch; "last assignment above the use" ignores control flow.
import torch
import torch.nn as nn


class MaskHead(nn.Module):
    def __init__(self, with_sigmoid=False):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.with_sigmoid = with_sigmoid

    def forward(self, x):
        x = self.fc(x)
        if self.with_sigmoid:
            x = torch.sigmoid(x)
        return x


loss = nn.BCEWithLogitsLoss()(MaskHead()(x), y)
