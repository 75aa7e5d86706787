import torch
import torch.nn as nn
import torch.nn.functional as F


def train_step(model, optimizer, x, y):
    optimizer.zero_grad()
    log_probs = F.log_softmax(model(x), dim=1)
    loss = F.nll_loss(log_probs, y)
    loss.backward()
    optimizer.step()
    return loss.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Linear(3, 3, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    print(train_step(model, opt, torch.tensor([[0.0, 50.0, -50.0]]), torch.tensor([2])))
