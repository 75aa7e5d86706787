import torch
import torch.nn as nn


def train_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = [(torch.randn(8, 20), torch.randn(8, 1)) for _ in range(10)]
    for epoch in range(3):
        train_epoch(model, loader, optimizer, nn.MSELoss())


if __name__ == "__main__":
    main()
