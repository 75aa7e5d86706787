import torch
import torch.nn as nn

from trainer import Trainer


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(200, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 16))
    trainer = Trainer(model)
    train_loader = [(torch.randn(16, 200), torch.randint(0, 16, (16,))) for _ in range(4)]
    val_loader = [(torch.randn(16, 200), torch.randint(0, 16, (16,))) for _ in range(2)]
    for epoch in range(5):
        trainer.train_epoch(train_loader)
        print(epoch, trainer.evaluate(val_loader))


if __name__ == "__main__":
    main()
