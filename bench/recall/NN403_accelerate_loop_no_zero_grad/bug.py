import torch
import torch.nn as nn
from accelerate import Accelerator
from accelerate.utils import set_seed


def training_function(epochs=2):
    set_seed(42)
    accelerator = Accelerator()
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loader = [(torch.randn(8, 32), torch.randint(0, 2, (8,))) for _ in range(10)]
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            accelerator.backward(loss)
            optimizer.step()


if __name__ == "__main__":
    training_function()
