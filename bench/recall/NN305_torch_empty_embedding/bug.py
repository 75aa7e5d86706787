import torch
import torch.nn as nn
import torch.nn.functional as F


class Localizer(nn.Module):
    def __init__(self, dim=512, num_classes=20):
        super().__init__()
        self.text_embeddings = nn.Parameter(torch.randn(num_classes, dim) * 0.02)
        self.bg_embeddings = nn.Parameter(torch.empty(1, dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, feats):
        classes = torch.cat([self.bg_embeddings, self.text_embeddings], dim=0)
        feats = F.normalize(self.proj(feats), dim=-1)
        return feats @ F.normalize(classes, dim=-1).t()
