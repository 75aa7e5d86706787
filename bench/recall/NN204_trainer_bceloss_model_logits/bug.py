import torch
import torch.nn as nn


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(40, 64), nn.ReLU())
        self.classifier = nn.Linear(64, 1)

    def forward(self, x):
        return self.classifier(self.backbone(x))


class Trainer:
    def __init__(self, model):
        self.model = model
        self.criterion = nn.BCELoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

    def train_step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = Trainer(Detector())
    print(trainer.train_step(torch.randn(16, 40), torch.randint(0, 2, (16, 1)).float()))
