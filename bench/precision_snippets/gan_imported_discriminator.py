"""A training script whose Discriminator comes from another package (not linted here) and returns logits.
Correct code; only the class *name* matches dcgan.py's Discriminator (which ends in nn.Sigmoid)."""
import torch
import torch.nn as nn
from gan_zoo.models import Discriminator, Generator

netD = Discriminator()
netG = Generator()
criterion = nn.BCEWithLogitsLoss()


def d_step(real, noise):
    pred_real = netD(real)
    loss_real = criterion(pred_real, torch.ones_like(pred_real))
    pred_fake = netD(netG(noise).detach())
    loss_fake = criterion(pred_fake, torch.zeros_like(pred_fake))
    return 0.5 * (loss_real + loss_fake)
