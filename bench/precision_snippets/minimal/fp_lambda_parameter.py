# NN202 false positive: a lambda parameter resolves to the enclosing function's variable.
import torch.nn as nn
import torch.nn.functional as F


def evaluate(x, y):
    out = nn.Linear(8, 4)(x)
    nll = lambda out, y: F.nll_loss(out, y)
    return nll(F.log_softmax(out, dim=1), y)
