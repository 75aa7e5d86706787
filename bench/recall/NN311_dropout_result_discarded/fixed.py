import torch.nn as nn


class MLPClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(100, 64)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(64, 3)

    def forward(self, x):
        h = self.fc1(x).relu()
        h = self.dropout(h)
        return self.fc2(h)
