import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, 128), nn.ReLU())
        self.classifier = nn.Linear(128, 5)

    def forward(self, x):
        return self.classifier(self.backbone(x))


class Trainer:
    def __init__(self, model):
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01)

    def step(self, x, y):
        self.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = Trainer(Net())
    for _ in range(3):
        trainer.step(torch.randn(8, 64), torch.randint(0, 5, (8,)))
