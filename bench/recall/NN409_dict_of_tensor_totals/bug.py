from collections import defaultdict

import torch
import torch.nn as nn


def train_one_epoch(model, loader, optimizer, loss_fns):
    total_loss = defaultdict(float)
    for images, targets in loader:
        optimizer.zero_grad()
        preds = model(images)
        loss_dict = {name: fn(preds, targets) for name, fn in loss_fns.items()}
        loss = sum(loss_dict.values())
        loss.backward()
        optimizer.step()
        for loss_name, loss_val in loss_dict.items():
            total_loss[loss_name] += loss_val * images.size(0)
    return {k: float(v) for k, v in total_loss.items()}


if __name__ == "__main__":
    torch.manual_seed(0)
    model = nn.Linear(10, 4)
    fns = {"box": nn.functional.l1_loss, "iou": nn.functional.mse_loss}
    print(train_one_epoch(model, [(torch.randn(4, 10), torch.randn(4, 4))], torch.optim.SGD(model.parameters(), lr=0.1), fns))
