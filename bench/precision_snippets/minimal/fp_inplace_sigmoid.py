# NN204 false positive: `out.sigmoid_()` mutates `out` in place; the name still resolves to the Linear call.
import torch.nn as nn


class HeatmapNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)

    def forward(self, x):
        out = self.fc(x)
        out.sigmoid_()
        return out


loss = nn.BCELoss()(HeatmapNet()(x), y)
