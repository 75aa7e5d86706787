import torch
import torch.nn as nn


class AutoEncoder(nn.Module):
    def __init__(self, dim=32, latent=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 16), nn.ReLU(), nn.Linear(16, dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.encoder.parameters(), lr=lr)
