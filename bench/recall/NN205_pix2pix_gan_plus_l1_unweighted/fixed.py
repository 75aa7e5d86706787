import torch
import torch.nn as nn


def generator_step(netG, netD, optimizer_G, real_A, real_B):
    criterion_gan = nn.BCEWithLogitsLoss()
    criterion_l1 = nn.L1Loss()
    optimizer_G.zero_grad()
    fake_B = netG(real_A)
    pred_fake = netD(torch.cat([real_A, fake_B], 1))
    loss_g_gan = criterion_gan(pred_fake, torch.ones_like(pred_fake))
    loss_g_l1 = criterion_l1(fake_B, real_B)
    lambda_l1 = 100.0
    loss_g = loss_g_gan + lambda_l1 * loss_g_l1
    loss_g.backward()
    optimizer_G.step()
    return loss_g.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    netG = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Tanh())
    netD = nn.Sequential(nn.Conv2d(6, 1, 4, 2, 1))
    opt = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    print(generator_step(netG, netD, opt, torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)))
