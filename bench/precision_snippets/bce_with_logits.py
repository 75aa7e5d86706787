"""Multi-label classification: BCEWithLogitsLoss on raw logits; sigmoid only for metrics/prediction."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiLabelNet(nn.Module):
    def __init__(self, num_labels=20):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3))
        self.head = nn.Linear(256, num_labels)

    def forward(self, x):
        return self.head(self.body(x))


model = MultiLabelNet()
criterion = nn.BCEWithLogitsLoss(pos_weight=torch.ones(20))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)


def train_step(x, y):
    logits = model(x)
    loss = criterion(logits, y.float())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    probs = torch.sigmoid(logits)
    preds = (probs > 0.5).float()
    return loss, preds


def distill_step(student, teacher, x):
    s_logits = student(x)
    with torch.no_grad():
        t_probs = torch.sigmoid(teacher(x))
    return F.binary_cross_entropy_with_logits(s_logits, t_probs)


def bce_on_probs(x, y):
    probs = torch.sigmoid(model(x))
    return F.binary_cross_entropy(probs, y)
