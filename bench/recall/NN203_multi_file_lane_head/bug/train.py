import torch
import torch.nn as nn

from heads import ExistHead


def train(head, loader, epochs=1):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01, momentum=0.9)
    for _ in range(epochs):
        for feat, exist in loader:
            optimizer.zero_grad()
            loss = criterion(head(feat), exist)
            loss.backward()
            optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    loader = [(torch.randn(2, 128, 9, 25), torch.randint(0, 2, (2, 4)).float()) for _ in range(3)]
    train(ExistHead(), loader)
