import torch.nn as nn
import torch.nn.functional as F


class SimilarityNet(nn.Module):
    def __init__(self, in_dim=300, hidden=128, num_classes=2):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        return F.softmax(self.fc2(h), dim=-1)
