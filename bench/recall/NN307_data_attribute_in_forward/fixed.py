import torch.nn as nn


class EdgeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1))
        self.fuse = nn.Conv2d(16, 1, 1)

    def forward(self, x):
        return self.fuse(self.backbone(x))
