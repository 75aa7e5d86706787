import torch
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=5000, dim=128, num_classes=4):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, dim)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(dim, num_classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, tokens, offsets):
        pooled = self.dropout(self.embedding(tokens, offsets))
        return self.classifier(pooled)


class Trainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)

    def train_step(self, tokens, offsets, labels):
        self.model.train()
        self.optimizer.zero_grad()
        logits = self.model(tokens, offsets)
        loss = self.criterion(logits, labels)
        loss.backward()
        self.optimizer.step()
        return loss.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    trainer = Trainer(TextClassifier())
    tokens = torch.randint(0, 5000, (40,))
    offsets = torch.arange(0, 40, 10)
    print(trainer.train_step(tokens, offsets, torch.randint(0, 4, (4,))))
