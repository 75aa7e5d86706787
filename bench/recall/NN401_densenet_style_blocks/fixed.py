import torch.nn as nn


class Head(nn.Module):
    def __init__(self, dim=512, num_classes=100):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(dim, 256, bias=False),
            nn.BatchNorm1d(256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.mlp(x)
