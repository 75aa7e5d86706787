# Class-name collision, part 1 of 2: a local `Critic` ending in nn.Sigmoid (correct with BCELoss).
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)
