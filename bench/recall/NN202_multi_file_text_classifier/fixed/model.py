import torch
import torch.nn as nn


class TextRNN(nn.Module):
    def __init__(self, vocab=2000, dim=64, hidden=64, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        out, _ = self.rnn(self.embed(x))
        return self.softmax(self.fc(out[:, -1]))
