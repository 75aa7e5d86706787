import torch.nn as nn


class FeedForward(nn.Module):
    def __init__(self, dims=(20, 64, 64, 3), p=0.5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dims[0], dims[1], bias=False),
            nn.BatchNorm1d(dims[1]),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(dims[1], dims[3]),
        )

    def forward(self, x):
        return self.net(x)
