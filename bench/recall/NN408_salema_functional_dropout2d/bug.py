import torch.nn as nn
from torch.nn.functional import dropout2d


class SalEMA(nn.Module):
    def __init__(self, use_dropout=True):
        super().__init__()
        self.use_dropout = use_dropout
        self.encoder = nn.Conv2d(3, 32, 3, padding=1)
        self.decoder = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        x = self.encoder(x).relu()
        if self.use_dropout is True:
            x = dropout2d(x)
        return self.decoder(x).sigmoid()
