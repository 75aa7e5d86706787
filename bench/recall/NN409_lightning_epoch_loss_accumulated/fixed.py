import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class LitRegression(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
        self.epoch_loss = 0.0

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.net(x), y)
        self.epoch_loss += loss.detach()
        return loss

    def on_train_epoch_end(self):
        self.log("epoch_loss", self.epoch_loss)
        self.epoch_loss = 0.0

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
