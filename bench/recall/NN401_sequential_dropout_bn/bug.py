import torch.nn as nn


def build_mlp(sizes, dropout=0.1):
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(n_in, n_out, bias=False))
        layers.append(nn.Dropout(dropout))
        layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)
