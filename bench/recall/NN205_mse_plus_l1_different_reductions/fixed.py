import torch
import torch.nn as nn
import torch.nn.functional as F


def train_step(model, optimizer, noisy, clean, edges):
    optimizer.zero_grad()
    restored, edge_pred = model(noisy)
    pixel = F.l1_loss(restored, clean)
    edge = F.mse_loss(edge_pred, edges)
    edge_weight = 0.1
    loss = pixel + edge_weight * edge
    loss.backward()
    optimizer.step()
    return loss.item()


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 8, 3, padding=1)
        self.img = nn.Conv2d(8, 3, 3, padding=1)
        self.edge = nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.img(h), self.edge(h)


if __name__ == "__main__":
    torch.manual_seed(0)
    model = TwoHeads()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    print(train_step(model, opt, torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64), torch.randn(2, 1, 64, 64)))
