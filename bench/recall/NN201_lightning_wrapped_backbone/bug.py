import pytorch_lightning as pl
import torch
import torch.nn as nn


def build_backbone(num_classes=10):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, num_classes),
        nn.Softmax(dim=1),
    )


class LitModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = build_backbone()
        self.loss_fn = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss_fn(self.model(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)
