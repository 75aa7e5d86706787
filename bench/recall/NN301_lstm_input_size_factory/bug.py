import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab=1000, dim=32, hidden=64, tags=9):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(hidden, tags)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.classifier(out)


def build_tagger(vocab=1000):
    return Tagger(vocab=vocab)
