import torch
import torch.nn as nn


def run_epoch(model, loader, optimizer, scheduler, grad_accumulation=4):
    model.train()
    for itr, (x, y) in enumerate(loader):
        loss = nn.functional.mse_loss(model(x), y) / grad_accumulation
        loss.backward()
        if (itr + 1) % grad_accumulation == 0:
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Linear(8, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
    run_epoch(model, [(torch.randn(4, 8), torch.randn(4, 1)) for _ in range(16)], optimizer, scheduler)
