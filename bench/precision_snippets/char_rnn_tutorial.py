"""PyTorch tutorial 'NLP From Scratch: Classifying Names with a Character-Level RNN' (2024 version):
the LogSoftmax layer is stored as `self.softmax`, the loss is nn.NLLLoss. Correct code."""
import torch
import torch.nn as nn


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


def train(rnn, training_data, n_epoch=10, learning_rate=0.2):
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)
    rnn.train()
    for epoch in range(n_epoch):
        for label_tensor, text_tensor in training_data:
            output = rnn(text_tensor)
            loss = criterion(output, label_tensor)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()


rnn = CharRNN(57, 128, 18)
criterion = nn.NLLLoss()
output = rnn(torch.zeros(5, 1, 57))
loss = criterion(output, torch.tensor([3]))


class BinaryHead(nn.Module):
    """Same naming habit with a sigmoid: `self.sigmoid` is an nn.Identity when the loss wants logits."""

    def __init__(self, d, with_logits=True):
        super().__init__()
        self.fc = nn.Linear(d, 1)
        self.sigmoid = nn.Identity() if with_logits else nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc(x))


binary_head = BinaryHead(128, with_logits=True)
bce_logits = nn.BCEWithLogitsLoss()
score = binary_head(torch.randn(4, 128))
loss_bin = bce_logits(score, torch.ones(4, 1))
