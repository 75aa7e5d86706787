import torch.nn as nn


class PixelMLP(nn.Module):
    def __init__(self, in_dim=64, num_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, 128)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
