import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class LitRegressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(32, 64)
        self.l2 = nn.Linear(64, 1)

    def forward(self, x):
        h = F.relu(self.l1(x))
        h = F.dropout(h, 0.2, training=self.training)
        return self.l2(h)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.mse_loss(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
