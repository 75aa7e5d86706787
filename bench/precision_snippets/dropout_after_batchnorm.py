"""Dropout placed after BatchNorm (and activation): the recommended order."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, d_in, d_hidden, d_out, p=0.5):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.bn1 = nn.BatchNorm1d(d_hidden)
        self.drop1 = nn.Dropout(p)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.bn2 = nn.BatchNorm1d(d_hidden)
        self.drop2 = nn.Dropout(p)
        self.out = nn.Linear(d_hidden, d_out)

    def forward(self, x):
        x = self.drop1(F.relu(self.bn1(self.fc1(x))))
        x = self.fc2(x)
        x = self.bn2(x)
        x = F.relu(x)
        x = self.drop2(x)
        return self.out(x)


def make_block(c_in, c_out, p):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Dropout2d(p),
    )


def make_mlp(sizes, p=0.2):
    layers = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn.Linear(d_in, d_out))
        layers.append(nn.BatchNorm1d(d_out))
        layers.append(nn.ReLU())
        layers.append(nn.Dropout(p))
    return nn.Sequential(*layers)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(make_block(3, 32, 0.1), make_block(32, 64, 0.1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))

    def forward(self, x):
        return self.classifier(self.features(x))
