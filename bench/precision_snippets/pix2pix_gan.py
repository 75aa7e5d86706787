"""pix2pix / CycleGAN-style generator loss: loss_G = loss_GAN + lambda_L1 * loss_L1; PatchGAN on logits."""
import torch
import torch.nn as nn


class UnetGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.ConvTranspose2d(64, 3, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.net(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc=6, ndf=64):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 1),
        )

    def forward(self, input):
        return self.model(input)


netG = UnetGenerator()
netD = NLayerDiscriminator()
criterionGAN = nn.BCEWithLogitsLoss()
criterionL1 = nn.L1Loss()
lambda_L1 = 100.0
optimizer_G = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))


def optimize_parameters(real_A, real_B):
    fake_B = netG(real_A)
    # D
    fake_AB = torch.cat((real_A, fake_B), 1)
    pred_fake = netD(fake_AB.detach())
    loss_D_fake = criterionGAN(pred_fake, torch.zeros_like(pred_fake))
    real_AB = torch.cat((real_A, real_B), 1)
    pred_real = netD(real_AB)
    loss_D_real = criterionGAN(pred_real, torch.ones_like(pred_real))
    loss_D = (loss_D_fake + loss_D_real) * 0.5
    optimizer_D.zero_grad()
    loss_D.backward()
    optimizer_D.step()
    # G
    fake_AB = torch.cat((real_A, fake_B), 1)
    pred_fake = netD(fake_AB)
    loss_G_GAN = criterionGAN(pred_fake, torch.ones_like(pred_fake))
    loss_G_L1 = criterionL1(fake_B, real_B) * lambda_L1
    loss_G = loss_G_GAN + loss_G_L1
    optimizer_G.zero_grad()
    loss_G.backward()
    optimizer_G.step()


def generator_loss(pred_fake, fake_B, real_B):
    loss_GAN = criterionGAN(pred_fake, torch.ones_like(pred_fake))
    loss_L1 = criterionL1(fake_B, real_B)
    loss_G = loss_GAN + lambda_L1 * loss_L1
    return loss_G
