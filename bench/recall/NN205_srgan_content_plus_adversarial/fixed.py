import torch
import torch.nn as nn


class SRGANTrainer:
    def __init__(self, netG, netD):
        self.netG, self.netD = netG, netD
        self.pixel_criterion = nn.MSELoss()
        self.gan_criterion = nn.BCEWithLogitsLoss()
        self.opt_g = torch.optim.Adam(netG.parameters(), lr=1e-4)

    def optimize_generator(self, lr_img, hr_img):
        self.opt_g.zero_grad()
        sr = self.netG(lr_img)
        l_pix = self.pixel_criterion(sr, hr_img)
        pred = self.netD(sr)
        l_gan = self.gan_criterion(pred, torch.ones_like(pred))
        gan_weight = 5e-3
        l_total = l_pix + gan_weight * l_gan
        l_total.backward()
        self.opt_g.step()
        return l_total.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    netG = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1))
    netD = nn.Sequential(nn.Conv2d(3, 1, 4, 2, 1))
    print(SRGANTrainer(netG, netD).optimize_generator(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)))
