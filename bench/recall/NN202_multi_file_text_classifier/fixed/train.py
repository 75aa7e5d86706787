import torch
import torch.nn as nn

from model import TextRNN


def run_epoch(model, batches, optimizer, loss_fn):
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = TextRNN()
    loss_fn = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.randint(0, 2000, (8, 20)), torch.randint(0, 4, (8,))) for _ in range(4)]
    run_epoch(model, batches, optimizer, loss_fn)
