import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, 5))

    def forward(self, x):
        return self.net(x).softmax(dim=-1)


def run_epoch(model, loader, criterion, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch.compile(MLP().to(device))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    loader = [(torch.randn(16, 64, device=device), torch.randint(0, 5, (16,), device=device)) for _ in range(8)]
    for epoch in range(3):
        print(epoch, run_epoch(model, loader, criterion, optimizer))


if __name__ == "__main__":
    main()
