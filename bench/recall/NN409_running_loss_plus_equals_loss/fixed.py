import torch
import torch.nn as nn


def train(model, loader, optimizer, epoch):
    criterion = nn.CrossEntropyLoss()
    model.train()
    running_loss = 0.0
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"epoch {epoch}: {running_loss / len(loader)}")


def main():
    torch.manual_seed(0)
    model = nn.Linear(20, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = [(torch.randn(8, 20), torch.randint(0, 3, (8,))) for _ in range(5)]
    for epoch in range(3):
        train(model, loader, optimizer, epoch)


if __name__ == "__main__":
    main()
