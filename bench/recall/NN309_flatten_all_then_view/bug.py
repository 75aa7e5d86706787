import torch.nn as nn


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(16 * 16, 10)

    def forward(self, x):
        x = self.features(x)
        x = x.view(-1, 16 * 16)
        return self.classifier(x)
