import torch
import torch.nn as nn


class NeuMF(nn.Module):
    def __init__(self, users=1000, items=500, dim=32):
        super().__init__()
        self.user = nn.Embedding(users, dim)
        self.item = nn.Embedding(items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, u, i):
        score = self.mlp(torch.cat([self.user(u), self.item(i)], dim=-1)).squeeze(-1)
        return score

    def fit(self, loader, epochs=2, lr=1e-3):
        criterion = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        for _ in range(epochs):
            for u, i, label in loader:
                optimizer.zero_grad()
                loss = criterion(self.forward(u, i), label)
                loss.backward()
                optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = NeuMF()
    data = [(torch.randint(0, 1000, (64,)), torch.randint(0, 500, (64,)), torch.randint(0, 2, (64,)).float())]
    model.fit(data)
