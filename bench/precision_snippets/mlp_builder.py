"""An MLP builder: dropout on the input, then hidden blocks (Linear, BatchNorm, ReLU) built in a loop."""
import torch.nn as nn


def build_mlp(d_in, hidden, d_out, input_dropout=0.2):
    layers = []
    layers.append(nn.Dropout(input_dropout))
    for h in hidden:
        layers.append(nn.Linear(d_in, h))
        d_in = h
    layers.append(nn.BatchNorm1d(d_in))
    layers.append(nn.ReLU())
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


def build_tabular(d_in, d_out, use_dropout=True):
    layers = []
    if use_dropout:
        layers.append(nn.Dropout(0.1))
    else:
        layers.append(nn.Identity())
    layers.append(nn.Linear(d_in, d_out))
    return nn.Sequential(*layers)


class Towers(nn.Module):
    """Two alternative regularisers kept in a list and chosen at run time; never chained."""

    def __init__(self, d):
        super().__init__()
        self.choices = nn.ModuleList([nn.Dropout(0.5), nn.BatchNorm1d(d)])

    def forward(self, x, which):
        return self.choices[which](x)
