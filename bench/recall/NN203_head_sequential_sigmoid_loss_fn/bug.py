import torch
import torch.nn as nn


class TokenConfidence(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.token = nn.Sequential(nn.Linear(dim, 1), nn.Sigmoid())
        self.loss_fn = nn.BCEWithLogitsLoss(reduction="none")

    def forward(self, desc):
        return self.token(desc).squeeze(-1)

    def loss(self, desc, correct):
        confidence = self.forward(desc.detach())
        return self.loss_fn(confidence, correct.float()).mean(-1)


if __name__ == "__main__":
    torch.manual_seed(0)
    head = TokenConfidence(64)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    for _ in range(5):
        loss = head.loss(torch.randn(4, 100, 64), torch.rand(4, 100) > 0.5).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
