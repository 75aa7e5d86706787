import torch.nn as nn


class FCOSHead(nn.Module):
    def __init__(self, channels=64, num_classes=5):
        super().__init__()
        self.cls_tower = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(8, channels), nn.ReLU())
        self.cls_logits = nn.Conv2d(channels, num_classes, 3, padding=1)
        self.bbox_pred = nn.Conv2d(channels, 4, 3, padding=1)

    def forward(self, feat):
        t = self.cls_tower(feat)
        return self.cls_logits(t), self.bbox_pred(t)
