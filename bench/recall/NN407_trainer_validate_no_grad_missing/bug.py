import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, optim):
        self.model, self.optim = model, optim
        self.criterion = nn.NLLLoss()

    def train_step(self, src, tgt):
        self.model.train()
        self.optim.zero_grad()
        loss = self.criterion(self.model(src), tgt)
        loss.backward()
        self.optim.step()

    def validate(self, valid_iter):
        self.model.eval()
        stats = 0.0
        for src, tgt in valid_iter:
            outputs = self.model(src)
            stats += self.criterion(outputs, tgt).item()
        self.model.train()
        return stats

    def train(self, train_iter, valid_iter, epochs=2):
        for _ in range(epochs):
            for src, tgt in train_iter:
                self.train_step(src, tgt)
            print(self.validate(valid_iter))


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.LogSoftmax(dim=-1))
    data = [(torch.randn(4, 16), torch.randint(0, 8, (4,)))]
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1)).train(data, data)
