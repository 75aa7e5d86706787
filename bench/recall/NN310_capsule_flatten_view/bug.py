import torch.nn as nn


class FlattenCaps(nn.Module):
    def __init__(self, pose=16, caps=8, length=20):
        super().__init__()
        self.route = nn.Linear(pose, pose)

    def forward(self, p):
        b, pose, caps, length = p.shape
        poses = p.view(b, caps * length, pose)
        return self.route(poses)
