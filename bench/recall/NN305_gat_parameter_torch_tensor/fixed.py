import torch
import torch.nn as nn


class GATLayer(nn.Module):
    def __init__(self, in_features, out_features, heads=4):
        super().__init__()
        self.heads, self.out_features = heads, out_features
        self.proj = nn.Linear(in_features, heads * out_features, bias=False)
        self.scoring_source = nn.Parameter(torch.randn(1, heads, out_features) * 0.1)
        self.scoring_target = nn.Parameter(torch.zeros(1, heads, out_features))

    def forward(self, x):
        h = self.proj(x).view(-1, self.heads, self.out_features)
        scores = (h * self.scoring_source).sum(-1) + (h * self.scoring_target).sum(-1)
        return h * torch.softmax(scores, dim=0).unsqueeze(-1)
