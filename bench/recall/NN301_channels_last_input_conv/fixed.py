import torch.nn as nn


class FrameEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 8)

    def forward(self, frames):
        x = frames.permute(0, 3, 1, 2)
        x = self.pool(self.stem(x).relu()).flatten(1)
        return self.fc(x)
