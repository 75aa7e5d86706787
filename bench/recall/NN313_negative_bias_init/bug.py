import torch.nn as nn


class DenseArch(nn.Module):
    def __init__(self, in_dim=13, hidden=64, out_dim=2):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, out_dim)
        self.relu = nn.ReLU()
        nn.init.normal_(self.fc1.weight, std=0.01)
        nn.init.constant_(self.fc1.bias, -4.0)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))
