import numpy as np
import torch
import torch.nn as nn


def train(model, data, epochs=10):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        idx = np.random.permutation(len(data))
        for i in idx:
            x, y = data[i]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    np.random.seed(0)
    data = [(torch.randn(4, 8), torch.randn(4, 1)) for _ in range(10)]
    train(nn.Linear(8, 1), data)
