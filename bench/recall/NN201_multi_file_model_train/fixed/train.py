import torch
import torch.nn as nn

from model import SimilarityNet


def train(model, loader, optimizer, epochs=2):
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = SimilarityNet()
    loader = [(torch.randn(8, 300), torch.randint(0, 2, (8,))) for _ in range(4)]
    train(model, loader, torch.optim.Adam(model.parameters(), lr=1e-3))
