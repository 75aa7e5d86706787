import torch


def contrastive_loss(anchor, other, same, margin=1.0):
    dist = torch.sqrt(((anchor - other) ** 2).sum(dim=1))
    pos = same * dist.pow(2)
    neg = (1 - same) * torch.clamp(margin - dist, min=0).pow(2)
    return (pos + neg).mean()
