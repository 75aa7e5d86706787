import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, num_layers=4, width=64):
        super().__init__()
        self.inp = nn.Linear(10, width)
        self.hidden = nn.ModuleList([nn.Linear(width, width) for _ in range(num_layers)])
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)


if __name__ == "__main__":
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 10), torch.randn(64, 1)
    for _ in range(10):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
