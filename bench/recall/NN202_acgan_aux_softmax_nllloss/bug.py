import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2)
        )
        self.fc_dis = nn.Linear(64 * 8 * 8, 1)
        self.fc_aux = nn.Linear(64 * 8 * 8, num_classes)
        self.sigmoid = nn.Sigmoid()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        h = self.features(x).flatten(1)
        return self.sigmoid(self.fc_dis(h)).view(-1), self.softmax(self.fc_aux(h))


def train_discriminator(netD, optimizerD, real, labels):
    dis_criterion = nn.BCELoss()
    aux_criterion = nn.NLLLoss()
    optimizerD.zero_grad()
    dis_output, aux_output = netD(real)
    dis_err = dis_criterion(dis_output, torch.ones_like(dis_output))
    aux_err = aux_criterion(aux_output, labels)
    err = dis_err + aux_err
    err.backward()
    optimizerD.step()
    return err.item()


if __name__ == "__main__":
    torch.manual_seed(0)
    netD = Discriminator()
    opt = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    print(train_discriminator(netD, opt, torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))))
