"""Figure 2: the seed's linear regression training loop (x of shape (30, 2), one Linear layer,
summed MSE, SGD) in microseconds per iteration."""
import torch
import torch.nn as nn

import _harness


def main():
    """Time zero_grad, forward, loss, backward and step on the seed's model."""
    x = torch.rand(30, 2)
    y = x @ torch.tensor([[2.0], [-3.0]]) + 1.0
    model = nn.Sequential(nn.Linear(2, 1))
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    _harness.report("linear regression", _harness.seconds_per_call(step) * 1e6, "us/iter")


if __name__ == "__main__":
    _harness.start(torch)
    main()
