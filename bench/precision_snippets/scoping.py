"""Names rebound by comprehensions, for-loops, lambdas and parameters: correct code, every loss gets logits."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class DeepSupervisionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(64, 10) for _ in range(3)])
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return [head(x) for head in self.heads]

    def training_step(self, x, y):
        outputs = self(x)
        out = F.softmax(outputs[-1], dim=1)  # probabilities for the accuracy metric
        acc = (out.argmax(1) == y).float().mean()
        loss = sum(F.cross_entropy(out, y) for out in outputs)  # `out` here is each head's logits
        return loss, acc

    def training_step_loop(self, x, y):
        outputs = self(x)
        logits = F.softmax(outputs[-1], dim=1)  # (badly named) probabilities for logging
        total = 0.0
        for logits in outputs:
            total = total + F.cross_entropy(logits, y)
        return total

    def eval_step(self, x, y):
        out = self.fc(x)
        nll = lambda out, y: F.nll_loss(out, y, reduction="sum")  # called with log-probabilities
        return nll(F.log_softmax(out, dim=1), y)


classifier = nn.Linear(64, 10)
features = torch.randn(4, 64)
output = classifier(features)  # quick shape check at import time
print(output.shape)


def nll_criterion(output, target):
    """Callers pass log-probabilities."""
    return F.nll_loss(output, target)
