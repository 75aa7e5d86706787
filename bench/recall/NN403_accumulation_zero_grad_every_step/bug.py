import torch
import torch.nn as nn


def train(model, loader, optimizer, accum_steps=4):
    criterion = nn.CrossEntropyLoss()
    model.train()
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Linear(16, 3)
    train(model, [(torch.randn(4, 16), torch.randint(0, 3, (4,))) for _ in range(8)], torch.optim.SGD(model.parameters(), lr=0.1))
