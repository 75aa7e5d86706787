import torch
import torch.nn as nn


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    loader = [(torch.randn(4, 10), torch.randint(0, 2, (4,))) for _ in range(5)]
    for epoch in range(90):
        scheduler.step()
        train_one_epoch(model, loader, optimizer, nn.CrossEntropyLoss())


if __name__ == "__main__":
    main()
