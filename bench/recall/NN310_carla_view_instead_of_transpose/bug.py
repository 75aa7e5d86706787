import torch.nn as nn


class SeriesEncoder(nn.Module):
    def __init__(self, channels=6, hidden=32):
        super().__init__()
        self.conv = nn.Conv1d(channels, hidden, 3, padding=1)
        self.head = nn.Linear(hidden, 8)

    def forward(self, x):
        b, t, c = x.shape
        x = x.view(b, c, t)
        return self.head(self.conv(x).mean(-1))
