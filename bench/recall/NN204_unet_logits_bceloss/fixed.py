import torch
import torch.nn as nn


class TinySegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.out = nn.Conv2d(16, 1, 1)

    def forward(self, x):
        return self.out(self.enc(x))


def train_one_epoch(net, loader, optimizer):
    criterion = nn.BCEWithLogitsLoss()
    net.train()
    for images, masks in loader:
        optimizer.zero_grad()
        pred = net(images)
        loss = criterion(pred, masks)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    net = TinySegNet()
    loader = [(torch.randn(2, 3, 32, 32), torch.randint(0, 2, (2, 1, 32, 32)).float())]
    train_one_epoch(net, loader, torch.optim.RMSprop(net.parameters(), lr=1e-4))
