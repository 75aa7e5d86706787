import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, interval_validate=50):
        self.model, self.optim = model, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.interval_validate = interval_validate
        self.iteration = 0

    def validate(self):
        self.model.eval()
        with torch.no_grad():
            return sum(nn.functional.cross_entropy(self.model(x), y).item() for x, y in self.val_loader)

    def train_epoch(self):
        for x, y in self.train_loader:
            if self.iteration % self.interval_validate == 0:
                self.validate()
                self.model.train()
            self.optim.zero_grad()
            loss = nn.functional.cross_entropy(self.model(x), y)
            loss.backward()
            self.optim.step()
            self.iteration += 1

    def train(self, epochs):
        self.model.train()
        for _ in range(epochs):
            self.train_epoch()
