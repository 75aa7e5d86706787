"""eriklindernoren/PyTorch-GAN acgan.py, modernised (torch.ones/zeros instead of Variable(...).fill_):
the ACGAN objective is adversarial BCE + auxiliary class CE, summed with equal weight by design."""
import torch
import torch.nn as nn

n_classes, latent_dim = 10, 100


class ACGANDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_blocks = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Flatten())
        self.adv_layer = nn.Sequential(nn.Linear(16 * 16 * 16, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(16 * 16 * 16, n_classes), nn.Softmax(dim=1))

    def forward(self, img):
        out = self.conv_blocks(img)
        validity = self.adv_layer(out)
        label = self.aux_layer(out)
        return validity, label


adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()


def train_step(generator, discriminator, imgs, labels, optimizer_G, optimizer_D):
    batch_size = imgs.shape[0]
    valid = torch.ones(batch_size, 1)
    fake = torch.zeros(batch_size, 1)
    z = torch.randn(batch_size, latent_dim)
    gen_labels = torch.randint(0, n_classes, (batch_size,))

    optimizer_G.zero_grad()
    gen_imgs = generator(z, gen_labels)
    validity, pred_label = discriminator(gen_imgs)
    g_loss = 0.5 * (adversarial_loss(validity, valid) + auxiliary_loss(pred_label, gen_labels))
    g_loss.backward()
    optimizer_G.step()

    optimizer_D.zero_grad()
    real_pred, real_aux = discriminator(imgs)
    d_real_loss = (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
    fake_pred, fake_aux = discriminator(gen_imgs.detach())
    d_fake_loss = (adversarial_loss(fake_pred, fake) + auxiliary_loss(fake_aux, gen_labels)) / 2
    d_loss = (d_real_loss + d_fake_loss) / 2
    d_loss.backward()
    optimizer_D.step()
