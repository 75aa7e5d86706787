import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed


class SentimentHead(nn.Module):
    def __init__(self, dim=256, num_labels=3):
        super().__init__()
        self.pre = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())
        self.out = nn.Linear(dim, num_labels)

    def forward(self, pooled):
        return torch.softmax(self.out(self.pre(pooled)), dim=-1)


def main():
    set_seed(0)
    accelerator = Accelerator()
    model = SentimentHead()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    loader = [(torch.randn(8, 256), torch.randint(0, 3, (8,))) for _ in range(4)]
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    loss_fct = nn.CrossEntropyLoss()
    model.train()
    for pooled, labels in loader:
        logits = model(pooled)
        loss = loss_fct(logits, labels)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()


if __name__ == "__main__":
    main()
