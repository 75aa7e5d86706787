# NN202 false positive: a function parameter resolves to a module-level variable of the same name.
import torch.nn as nn
import torch.nn.functional as F

output = nn.Linear(8, 4)(torch_input)


def criterion(output, target):
    return F.nll_loss(output, target)
