"""Figure 3: an MLP 784-256-128-10 with ReLU trained with cross-entropy and SGD (momentum 0.9) on
random batches of 64 and 512, in milliseconds per iteration."""
import torch
import torch.nn as nn

import _harness


def trainer(batch):
    """A fresh MLP, loss, optimizer and random batch; returns one training step as a function."""
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = torch.randn(batch, 784)
    labels = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
    return step


def measure(batch):
    """Report one training iteration's time at ``batch``."""
    _harness.report(f"MLP batch {batch}", _harness.seconds_per_call(trainer(batch)) * 1e3, "ms/iter")


if __name__ == "__main__":
    _harness.start(torch)
    measure(64)
    measure(512)
