import torch.nn as nn


def make_dnn(in_dim=40, hidden=256, depth=10, num_classes=10):
    layers = [nn.Linear(in_dim, hidden), nn.Sigmoid()]
    for _ in range(depth - 1):
        layers += [nn.Linear(hidden, hidden), nn.Sigmoid()]
    layers.append(nn.Linear(hidden, num_classes))
    return nn.Sequential(*layers)
