import torch
import torch.nn as nn


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU())
        self.neck = nn.Conv2d(16, 16, 1)
        self.head = nn.Conv2d(16, 5, 1)

    def forward(self, x):
        return self.head(self.neck(self.backbone(x)))


torch.manual_seed(0)
model = Detector()
optimizer = torch.optim.SGD(
    [
        {"params": model.backbone.parameters(), "lr": 1e-3},
        {"params": model.neck.parameters()},
        {"params": model.head.parameters()},
    ],
    lr=1e-2,
    momentum=0.9,
)
for _ in range(5):
    images, targets = torch.randn(2, 3, 32, 32), torch.randn(2, 5, 16, 16)
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(images), targets)
    loss.backward()
    optimizer.step()
