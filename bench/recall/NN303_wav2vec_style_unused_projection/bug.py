import torch.nn as nn
import torch.nn.functional as F


class AudioEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 16, 10, 5)
        self.conv2 = nn.Conv1d(16, 32, 3, 2)
        self.project_q = nn.Linear(32, 32)
        self.out = nn.Linear(32, 10)

    def forward(self, wav):
        x = F.gelu(self.conv1(wav))
        x = F.gelu(self.conv2(x))
        return self.out(x.mean(-1))
