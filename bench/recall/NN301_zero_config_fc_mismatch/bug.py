import torch.nn as nn


class AnomalyDetector(nn.Module):
    def __init__(self, input_dim=4096):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, 512)
        self.dropout = nn.Dropout(0.6)
        self.fc2 = nn.Linear(256, 32)
        self.fc3 = nn.Linear(32, 1)

    def forward(self, x):
        x = self.dropout(self.fc1(x).relu())
        x = self.dropout(self.fc2(x))
        return self.fc3(x).sigmoid()
