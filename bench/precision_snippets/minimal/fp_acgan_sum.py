# NN205 false positive: adversarial BCE + auxiliary classification CE (ACGAN) are both log-likelihoods,
# summed with equal weight by design; neither is a reconstruction term.
import torch
import torch.nn as nn

adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()


def d_real_loss(real_pred, real_aux, labels):
    valid = torch.ones_like(real_pred)
    return (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
