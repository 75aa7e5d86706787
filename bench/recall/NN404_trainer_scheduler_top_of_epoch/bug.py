import torch
import torch.nn as nn


class ClassificationTrainer:
    def __init__(self, model, epochs=3):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=4e-5)
        self.scheduler = torch.optim.lr_scheduler.LinearLR(self.optimizer, start_factor=1.0, end_factor=0.0, total_iters=epochs)
        self.epochs = epochs

    def train_epoch(self, loader):
        self.scheduler.step()
        self.model.train()
        for x, y in loader:
            self.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    def train(self, loader):
        for _ in range(self.epochs):
            self.train_epoch(loader)


if __name__ == "__main__":
    torch.manual_seed(0)
    ClassificationTrainer(nn.Linear(10, 2)).train([(torch.randn(4, 10), torch.randint(0, 2, (4,)))])
