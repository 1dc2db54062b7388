"""The pytorch/examples MNIST CNN (two 3x3 convolutions, max-pool, dropout, two linear layers,
log-softmax and NLL loss) trained with Adadelta on random batches of 64, in milliseconds per step."""
import torch
import torch.nn as nn
import torch.nn.functional as F

import _harness


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)


def trainer(batch=64):
    model = Net()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    data = torch.randn(batch, 1, 28, 28)
    target = torch.randint(0, 10, (batch,))
    return _harness.training_step(optimizer, lambda: F.nll_loss(model(data), target))


if __name__ == "__main__":
    _harness.start(torch)
    _harness.report("MNIST CNN batch 64", _harness.seconds_per_call(trainer()) * 1e3, "ms/iter")
