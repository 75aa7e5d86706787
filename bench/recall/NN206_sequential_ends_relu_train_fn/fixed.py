import torch
import torch.nn as nn


def build_classifier(in_dim, num_classes):
    return nn.Sequential(
        nn.Linear(in_dim, 256),
        nn.ReLU(),
        nn.Linear(256, num_classes),
    )


def train(model, loader, optimizer, epoch):
    criterion = nn.CrossEntropyLoss()
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def main():
    torch.manual_seed(0)
    model = build_classifier(128, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = [(torch.randn(32, 128), torch.randint(0, 10, (32,))) for _ in range(4)]
    for epoch in range(2):
        train(model, loader, optimizer, epoch)


if __name__ == "__main__":
    main()
