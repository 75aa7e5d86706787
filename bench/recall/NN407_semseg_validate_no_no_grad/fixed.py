import torch
import torch.nn as nn


def validate(val_loader, model, criterion):
    model.eval()
    total = 0.0
    for i, (inputs, target) in enumerate(val_loader):
        with torch.no_grad():
            output = model(inputs)
        total += criterion(output, target).item()
    return total / len(val_loader)


def train(train_loader, model, criterion, optimizer):
    model.train()
    for inputs, target in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), target)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Conv2d(3, 4, 1)
    data = [(torch.randn(2, 3, 8, 8), torch.randint(0, 4, (2, 8, 8)))]
    crit = nn.CrossEntropyLoss()
    train(data, model, crit, torch.optim.SGD(model.parameters(), lr=0.01))
    print(validate(data, model, crit))
