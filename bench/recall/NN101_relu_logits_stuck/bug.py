import torch.nn as nn


class Net(nn.Module):
    def __init__(self, in_dim=20, num_classes=5):
        super().__init__()
        self.hidden = nn.Linear(in_dim, 32)
        self.out = nn.Linear(32, num_classes)
        nn.init.constant_(self.out.bias, -3.0)

    def forward(self, x):
        return nn.functional.relu(self.out(nn.functional.relu(self.hidden(x))))
