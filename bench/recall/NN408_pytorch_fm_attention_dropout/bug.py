import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentionalFM(nn.Module):
    def __init__(self, dim=16, attn_size=16):
        super().__init__()
        self.attention = nn.Linear(dim, attn_size)
        self.projection = nn.Linear(attn_size, 1)
        self.fc = nn.Linear(dim, 1)

    def forward(self, inner_product):
        attn_scores = F.relu(self.attention(inner_product))
        attn_scores = F.softmax(self.projection(attn_scores), dim=1)
        attn_scores = F.dropout(attn_scores, p=0.1)
        attn_output = torch.sum(attn_scores * inner_product, dim=1)
        return self.fc(attn_output)
