import torch
import torch.nn as nn
import torch.nn.functional as F


class HAN(nn.Module):
    def __init__(self, vocab=3000, dim=50, hidden=50, classes=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
        self.attn = nn.Linear(2 * hidden, 1)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, tokens):
        out, _ = self.gru(self.embed(tokens))
        weights = torch.softmax(self.attn(out), dim=1)
        doc = (weights * out).sum(dim=1)
        return F.log_softmax(self.fc(doc), dim=1)


def train(model, loader, criterion, optimizer, epochs=2):
    for _ in range(epochs):
        for tokens, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(tokens), labels)
            loss.backward()
            optimizer.step()


def main():
    torch.manual_seed(0)
    model = HAN()
    loader = [(torch.randint(0, 3000, (4, 40)), torch.randint(0, 5, (4,))) for _ in range(3)]
    train(model, loader, nn.NLLLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


if __name__ == "__main__":
    main()
