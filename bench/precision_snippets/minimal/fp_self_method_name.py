# NN202 false positive: `self.softmax` is an nn.LogSoftmax module, but `self.softmax(x)` is read as Tensor.softmax.
import torch.nn as nn


class RnnTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(8, 4)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        return self.softmax(self.out(x))


loss = nn.NLLLoss()(RnnTagger()(x), y)
