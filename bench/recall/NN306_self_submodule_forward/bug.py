import torch.nn as nn


class KWinnersWrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(128, 64)
        self.decoder = nn.Linear(64, 128)

    def forward(self, x):
        h = self.encoder.forward(x)
        return self.decoder(h.relu())
