"""A DCGAN training step at 32x32 (pytorch/examples' dcgan with one stage fewer: transposed-convolution
generator and convolutional discriminator, BatchNorm, ReLU/LeakyReLU, BCE loss, two Adam optimizers),
widths 32, batch 32, in milliseconds per step (one discriminator and one generator update)."""
import torch
import torch.nn as nn

import _harness

NZ, NGF, NDF, BATCH = 100, 32, 32, 32


def generator():
    return nn.Sequential(
        nn.ConvTranspose2d(NZ, NGF * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
        nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
        nn.ConvTranspose2d(NGF, 3, 4, 2, 1, bias=False), nn.Tanh())


def discriminator():
    return nn.Sequential(
        nn.Conv2d(3, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(NDF * 4, 1, 4, 1, 0, bias=False), nn.Sigmoid())


def trainer():
    net_g, net_d = generator(), discriminator()
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(BATCH, 3, 32, 32) * 2 - 1
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)

    def step():
        net_d.zero_grad()
        err_real = criterion(net_d(real).view(-1), ones)
        err_real.backward()
        fake = net_g(torch.randn(BATCH, NZ, 1, 1))
        err_fake = criterion(net_d(fake.detach()).view(-1), zeros)
        err_fake.backward()
        opt_d.step()
        net_g.zero_grad()
        err_g = criterion(net_d(fake).view(-1), ones)
        err_g.backward()
        opt_g.step()
        return err_g.item()
    return step


if __name__ == "__main__":
    _harness.start(torch)
    _harness.report("DCGAN step 32x32", _harness.seconds_per_call(trainer()) * 1e3, "ms/iter")
