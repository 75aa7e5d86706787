import torch.nn as nn


class IntentClassifier(nn.Module):
    def __init__(self, dim=48, num_classes=6):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU())
        self.classifier = nn.Linear(64, num_classes)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.softmax(self.classifier(self.encoder(x)))
