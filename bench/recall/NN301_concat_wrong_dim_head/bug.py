import torch
import torch.nn as nn


class MultiInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.sec = nn.Sequential(nn.Linear(8 * 3, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        c1, c2, c3 = self.cnn(x[:, 0]), self.cnn(x[:, 1]), self.cnn(x[:, 2])
        feats = torch.cat((c1, c2, c3), 0)
        return self.sec(feats)
