"""log_softmax + NLLLoss in every spelling nnlint knows (module, functional, method, torch.log of softmax)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LogSoftmaxClassifier(nn.Module):
    def __init__(self, d_in, n_classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(128, n_classes),
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x):
        return self.net(x)


model = LogSoftmaxClassifier(20, 5)
criterion = nn.NLLLoss()
x = torch.randn(32, 20)
y = torch.randint(0, 5, (32,))
loss1 = criterion(model(x), y)

fc = nn.Linear(20, 5)
logits = fc(x)
log_probs = F.log_softmax(logits, dim=1)
loss2 = F.nll_loss(log_probs, y)
loss3 = F.nll_loss(logits.log_softmax(dim=-1), y)
loss4 = F.nll_loss(torch.log(F.softmax(logits, dim=1) + 1e-8), y)
loss5 = nn.NLLLoss(weight=torch.ones(5))(torch.log_softmax(logits, 1), y)

probs = F.softmax(logits, dim=1)
loss6 = F.nll_loss(probs.log(), y)
loss7 = F.cross_entropy(logits, y)
