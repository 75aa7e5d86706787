import torch
import torch.nn as nn


class UNetTrainer:
    def __init__(self, model, train_loader, val_loader):
        self.model = model
        self.train_loader, self.val_loader = train_loader, val_loader
        self.loss_criterion = nn.BCEWithLogitsLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = self.loss_criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    def validate(self):
        self.model.eval()
        losses = []
        with torch.no_grad():
            for x, y in self.val_loader:
                losses.append(self.loss_criterion(self.model(x), y).item())
        return sum(losses) / len(losses)

    def fit(self, epochs):
        for _ in range(epochs):
            self.train_epoch()
            print(self.validate())


if __name__ == "__main__":
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout2d(0.2), nn.Conv2d(8, 1, 1))
    data = [(torch.randn(2, 1, 16, 16), torch.rand(2, 1, 16, 16).round())]
    UNetTrainer(net, data, data).fit(2)
