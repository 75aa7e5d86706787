# NN401 false positive: Linear layers are appended in the for-loop between the Dropout and the BatchNorm.
import torch.nn as nn


def build(sizes):
    layers = []
    layers.append(nn.Dropout(0.2))
    for a, b in zip(sizes, sizes[1:]):
        layers.append(nn.Linear(a, b))
    layers.append(nn.BatchNorm1d(sizes[-1]))
    return nn.Sequential(*layers)
