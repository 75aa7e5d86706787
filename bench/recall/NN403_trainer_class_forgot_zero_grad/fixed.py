import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, lr=1e-4):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def train_step(self, batch):
        inputs, labels = batch
        logits = self.model(inputs)
        loss = self.loss_fn(logits, labels)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.item()

    def fit(self, loader, epochs=1):
        self.model.train()
        for _ in range(epochs):
            for batch in loader:
                self.train_step(batch)


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = Trainer(nn.Linear(32, 4))
    trainer.fit([(torch.randn(8, 32), torch.randint(0, 4, (8,))) for _ in range(5)])
