"""The PyTorch tutorial's spatial transformer network (affine_grid + grid_sample in front of a small CNN) trains on
ember as on PyTorch from the same weights: the same losses, step by step, and the same transformed images."""
import numpy as np
import torch

import ember


def _net(L):
    nn, F = L.nn, L.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                                              nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(L.tensor([1, 0, 0, 0, 1, 0], dtype=L.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size(), align_corners=False)
            return F.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            return F.log_softmax(self.fc2(x), dim=1)
    return Net()


def _train(L, state, data, target):
    L.manual_seed(0)
    model = _net(L)
    model.load_state_dict({k: L.tensor(v) for k, v in state.items()})
    opt = L.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(4):
        x, y = L.tensor(data[step]), L.tensor(target[step])
        opt.zero_grad()
        loss = L.nn.functional.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with L.no_grad():
        warped = model.stn(L.tensor(data[0])).numpy()
    return losses, warped, model.fc_loc[2].bias.detach().numpy()


def test_spatial_transformer_trains_as_in_pytorch():
    rng = np.random.default_rng(0)
    torch.manual_seed(1)
    state = {k: v.detach().numpy().copy() for k, v in _net(torch).state_dict().items()}
    data = rng.standard_normal((4, 8, 1, 28, 28)).astype(np.float32)
    target = rng.integers(0, 10, (4, 8))
    e_losses, e_warped, e_bias = _train(ember, state, data, target)
    t_losses, t_warped, t_bias = _train(torch, state, data, target)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    np.testing.assert_allclose(e_warped, t_warped, atol=1e-4)
    np.testing.assert_allclose(e_bias, t_bias, atol=1e-5)
    assert not np.allclose(e_bias, [1, 0, 0, 0, 1, 0])      # the transformer itself was trained
