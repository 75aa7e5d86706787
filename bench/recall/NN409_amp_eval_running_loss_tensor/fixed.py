import torch
import torch.nn as nn


def train_epoch(model, loader, optimizer, scaler):
    model.train()
    epoch_loss = 0
    for images, labels in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            loss = nn.functional.cross_entropy(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        epoch_loss += loss.item()
    return epoch_loss / len(loader)
