import torch.nn as nn


class DeepMLP(nn.Module):
    def __init__(self, in_dim=64, width=128, depth=12, num_classes=10):
        super().__init__()
        dims = [in_dim] + [width] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(width, num_classes)
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return self.out(x)
