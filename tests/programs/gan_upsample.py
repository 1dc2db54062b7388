import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

torch.manual_seed(0)
cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Sequential(nn.Linear(8, 4 * 4 * 4))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(4), nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3, stride=1, padding=1),
            nn.BatchNorm2d(4, 0.8), nn.LeakyReLU(0.2, inplace=True), nn.Upsample(scale_factor=2, mode='bilinear'),
            nn.Conv2d(4, 1, 3, stride=1, padding=1), nn.Tanh())

    def forward(self, z):
        out = self.l1(z).view(z.shape[0], 4, 4, 4)
        return self.conv_blocks(out)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Flatten(),
                                   nn.Linear(4 * 8 * 8, 1), nn.Sigmoid())

    def forward(self, img):
        return self.model(img)


generator, discriminator = Generator(), Discriminator()
adversarial_loss = torch.nn.BCELoss()
optimizer_G = torch.optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
real = torch.rand(6, 1, 16, 16) * 2 - 1
print(generator.conv_blocks[1], generator.conv_blocks[5])
for step in range(3):
    valid = Variable(Tensor(real.size(0), 1).fill_(1.0), requires_grad=False)
    fake = Variable(Tensor(real.size(0), 1).fill_(0.0), requires_grad=False)
    z = Variable(Tensor(np.random.RandomState(step).normal(0, 1, (real.shape[0], 8))))
    optimizer_G.zero_grad()
    gen_imgs = generator(z)
    g_loss = adversarial_loss(discriminator(gen_imgs), valid)
    g_loss.backward()
    optimizer_G.step()
    optimizer_D.zero_grad()
    d_loss = (adversarial_loss(discriminator(real), valid) + adversarial_loss(discriminator(gen_imgs.detach()), fake)) / 2
    d_loss.backward()
    optimizer_D.step()
    small = F.interpolate(gen_imgs, size=(5, 5), mode='bicubic', align_corners=False)
    print(f'[{step}] D {d_loss.item():.4f} G {g_loss.item():.4f} small {small.abs().mean().item():.4f}')
print(torch.finfo(torch.float32).eps, torch.iinfo(torch.int16).max, torch.pi > 3, torch.inf)
