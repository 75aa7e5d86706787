import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class ManualGAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 32))
        self.discriminator = nn.Sequential(nn.Linear(32, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        z = torch.randn(batch.size(0), 16, device=self.device)
        fake = self.generator(z)
        pred = self.discriminator(fake)
        g_loss = F.binary_cross_entropy_with_logits(pred, torch.ones_like(pred))
        self.manual_backward(g_loss)
        opt_g.step()
        real_pred = self.discriminator(batch)
        fake_pred = self.discriminator(fake.detach())
        d_loss = F.binary_cross_entropy_with_logits(real_pred, torch.ones_like(real_pred)) + F.binary_cross_entropy_with_logits(
            fake_pred, torch.zeros_like(fake_pred)
        )
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

    def configure_optimizers(self):
        return torch.optim.Adam(self.generator.parameters(), lr=2e-4), torch.optim.Adam(self.discriminator.parameters(), lr=2e-4)
