import torch
import torch.nn as nn


class SpamClassifier(nn.Module):
    def __init__(self, vocab=10000, dim=64):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab, dim)
        self.fc = nn.Linear(dim, 1)

    def forward(self, tokens, offsets):
        return self.fc(self.embed(tokens, offsets)).squeeze(-1)


class Trainer:
    def __init__(self, model):
        self.model = model
        self.criterion = nn.BCEWithLogitsLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step(self, tokens, offsets, labels):
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(tokens, offsets), labels)
        loss.backward()
        self.optimizer.step()
        return loss.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = Trainer(SpamClassifier())
    print(trainer.train_step(torch.randint(0, 10000, (50,)), torch.arange(0, 50, 10), torch.rand(5).round()))
