"""End-to-end training on real images: the seed's CIFAR-10 pipeline (transforms, DataLoader with two
worker processes, LeNet, SGD with momentum) lowers the loss."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.vision import datasets, transforms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Net(nn.Module):
    """The course's LeNet, line for line."""

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_lenet_on_cifar_layout_lowers_the_loss(tmp_path, capsys):
    if not os.path.isdir('/usr/share/datasets/fashion-mnist'):
        pytest.skip("needs Debian's dataset-fashion-mnist (installed by .ci/install-data.sh)")
    subprocess.run([sys.executable, os.path.join(ROOT, 'examples', 'prepare_cifar10.py'), '--out',
                    str(tmp_path / 'data'), '--train', '2000', '--test', '200'], check=True, capture_output=True)
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    example = os.path.join(ROOT, 'examples', 'prepare_cifar10.py')
    spec = importlib.util.spec_from_file_location('prepare_cifar10', example)
    stand_in = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stand_in)
    trainset = stand_in.stand_in_class()(root=str(tmp_path / 'data'), train=True, download=True, transform=transform)
    assert 'Fashion-MNIST' in capsys.readouterr().out
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True, num_workers=2)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    losses = []
    for epoch in range(2):
        for inputs, labels in trainloader:
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    first, last = np.mean(losses[:200]), np.mean(losses[-200:])
    assert np.isfinite(losses).all()
    assert last < 0.8 * first, f'loss went from {first:.3f} to {last:.3f}'
