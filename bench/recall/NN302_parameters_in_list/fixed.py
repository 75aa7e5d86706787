import torch
import torch.nn as nn


class Highway(nn.Module):
    def __init__(self, size=64, num_layers=2):
        super().__init__()
        self.linear = nn.ModuleList([nn.Linear(size, size) for _ in range(num_layers)])
        self.gates = nn.ParameterList([nn.Parameter(torch.zeros(size)) for _ in range(num_layers)])

    def forward(self, x):
        for layer, gate in zip(self.linear, self.gates):
            g = torch.sigmoid(gate)
            x = g * torch.relu(layer(x)) + (1 - g) * x
        return x
