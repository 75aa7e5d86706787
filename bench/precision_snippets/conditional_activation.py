"""Models that return logits in training and probabilities only on a branch that training never takes.
A common pattern (segmentation heads with an `activation` flag, classifiers that softmax in eval)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SegHead(nn.Module):
    def __init__(self, c_in, n_classes, apply_sigmoid=False):
        super().__init__()
        self.conv = nn.Conv2d(c_in, n_classes, 1)
        self.fc = nn.Linear(c_in, n_classes)
        self.apply_sigmoid = apply_sigmoid

    def forward(self, x):
        x = self.fc(x)
        if self.apply_sigmoid:
            x = torch.sigmoid(x)
        return x


class Classifier(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.fc = nn.Linear(d, n)

    def forward(self, x):
        logits = self.fc(x)
        if not self.training:
            logits = logits.softmax(dim=-1)
        return logits


head = SegHead(64, 3, apply_sigmoid=False)
clf = Classifier(64, 10)
bce = nn.BCEWithLogitsLoss()
ce = nn.CrossEntropyLoss()


def train_step(x, y_mask, y_cls):
    head.train()
    clf.train()
    loss_seg = bce(head(x), y_mask)
    loss_cls = ce(clf(x), y_cls)
    return loss_seg + 0.5 * loss_cls
