import torch
import torch.nn as nn


class Biaffine(nn.Module):
    def __init__(self, in_size, out_size):
        super().__init__()
        self.U = nn.Parameter(torch.randn(in_size + 1, out_size, in_size + 1) * 0.01)

    def forward(self, start, end):
        ones = torch.ones_like(start[..., :1])
        start = torch.cat([start, ones], dim=-1)
        end = torch.cat([end, ones], dim=-1)
        return torch.einsum("bxi,ioj,byj->bxyo", start, self.U, end)
