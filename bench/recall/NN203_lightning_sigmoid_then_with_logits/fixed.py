import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class TransferModel(pl.LightningModule):
    def __init__(self, in_features=512):
        super().__init__()
        self.feature_extractor = nn.Sequential(nn.Linear(in_features, 256), nn.ReLU())
        self.fc = nn.Linear(256, 1)

    def forward(self, x):
        return self.fc(self.feature_extractor(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        y_logits = self(x)
        y_scores = torch.sigmoid(y_logits)
        loss = F.binary_cross_entropy_with_logits(y_logits, y.float())
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
