import torch
import torch.nn as nn


class MultiTaskNet(nn.Module):
    def __init__(self, tasks=("age", "gender", "emotion"), dim=128):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(512, dim), nn.ReLU())
        self.heads = nn.ModuleDict({name: nn.Linear(dim, 1) for name in tasks})

    def forward(self, x):
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}


def train(model, batches, optimizer):
    for x, targets in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = sum(nn.functional.mse_loss(out[k], targets[k]) for k in out)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = MultiTaskNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randn(8, 512), {k: torch.randn(8, 1) for k in ("age", "gender", "emotion")})]
    train(model, batches, opt)
