# NN201 false positive: the generator's own `out` is taken for the function's earlier `out`.
import torch.nn.functional as F


def deep_supervision_loss(outputs, y):
    out = F.softmax(outputs[-1], dim=1)
    return sum(F.cross_entropy(out, y) for out in outputs)
