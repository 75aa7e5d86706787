import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(768, 256), nn.GELU(), nn.Dropout(0.1), nn.Linear(256, 1))

    def forward(self, x, labels=None):
        pred = self.net(x).squeeze(-1)
        loss = nn.functional.mse_loss(pred, labels) if labels is not None else None
        return pred, loss


def evaluate(model, eval_dataloader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for x, y in eval_dataloader:
            _, loss = model(x, labels=y)
            total += loss.item()
    return total / len(eval_dataloader)


def train(model, train_dataloader, eval_dataloader, optimizer, epochs=3):
    for epoch in range(epochs):
        model.train()
        for x, y in train_dataloader:
            optimizer.zero_grad()
            _, loss = model(x, labels=y)
            loss.backward()
            optimizer.step()
        print(epoch, evaluate(model, eval_dataloader))


if __name__ == "__main__":
    torch.manual_seed(0)
    model = Regressor()
    data = [(torch.randn(4, 768), torch.randn(4)) for _ in range(3)]
    train(model, data, data, torch.optim.AdamW(model.parameters(), lr=3e-5))
