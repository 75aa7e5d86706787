import torch
import torch.nn as nn

from engine import train_one_epoch, validate


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Dropout(0.3), nn.ReLU(), nn.Linear(64, 5))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    train_loader = [(torch.randn(8, 64), torch.randint(0, 5, (8,))) for _ in range(4)]
    val_loader = [(torch.randn(8, 64), torch.randint(0, 5, (8,))) for _ in range(2)]
    for epoch in range(3):
        train_one_epoch(model, train_loader, optimizer)
        print(epoch, validate(model, val_loader))


if __name__ == "__main__":
    main()
