# NN201 false positive: a for-loop target is not a recorded binding.
import torch.nn.functional as F


def aux_loss(outputs, y):
    logits = F.softmax(outputs[0], dim=1)
    total = 0.0
    for logits in outputs:
        total = total + F.cross_entropy(logits, y)
    return total
