"""Figure 4: the course's CIFAR-10 LeNet trained as the seed trains it (cross-entropy, SGD lr 0.001
momentum 0.9, loss.item() each step) on random batches of 4 and 64: ms per iteration, s per epoch."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

import _harness

EPOCH_IMAGES = 50_000


class Net(nn.Module):
    """The seed's LeNet for 32x32 RGB images."""

    def __init__(self):
        super().__init__()
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


def trainer(batch):
    """A fresh LeNet, loss, optimizer and random batch; returns one training step as a function."""
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    inputs = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 10, (batch,))
    return _harness.training_step(optimizer, lambda: criterion(net(inputs), labels))


def measure(batch):
    """Report one training iteration's time at ``batch`` and the 50,000-image epoch it implies."""
    seconds = _harness.seconds_per_call(trainer(batch))
    _harness.report(f"LeNet batch {batch}", seconds * 1e3, "ms/iter")
    _harness.report(f"LeNet batch {batch} epoch", seconds * EPOCH_IMAGES / batch, "s/epoch")


if __name__ == "__main__":
    _harness.start(torch)
    measure(4)
    measure(64)
