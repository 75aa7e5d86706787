import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, in_dim, num_classes):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_dim, 100, bias=False),
            nn.BatchNorm1d(100),
            nn.ReLU(),
            nn.Linear(100, num_classes),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.layers(x)


def build_model(cfg):
    return Classifier(cfg["in_dim"], cfg["num_classes"])


def main():
    torch.manual_seed(0)
    cfg = {"in_dim": 256, "num_classes": 10, "lr": 0.01}
    model = build_model(cfg)
    model = nn.DataParallel(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9)
    for step in range(10):
        features = torch.randn(32, cfg["in_dim"])
        labels = torch.randint(0, cfg["num_classes"], (32,))
        optimizer.zero_grad()
        loss = criterion(model(features), labels)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
