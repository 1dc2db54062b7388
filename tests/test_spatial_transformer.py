"""The PyTorch tutorial's spatial transformer network (affine_grid + grid_sample in front of a small CNN) trains on
ember as on PyTorch from the same weights: the same losses, step by step, and the same transformed images."""
import numpy as np
import pytest
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
    losses, biases = [], []
    for step in range(4):
        x, y = L.tensor(data[step]), L.tensor(target[step])
        opt.zero_grad()
        loss = L.nn.functional.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        biases.append(model.fc_loc[2].bias.detach().numpy().copy())
    model.eval()
    with L.no_grad():
        warped = model.stn(L.tensor(data[0])).numpy()
    return losses, warped, np.array(biases)


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
    # The transformer's bias step by step. The 4th step's gradient meets a near-tie: F.max_pool2d(conv1(x), 2) has a
    # window whose two largest values are 9e-6 apart (0.302794 / 0.302803 in PyTorch), and the trajectories, ~3e-7
    # apart in the params after 3 steps (PyTorch's float32 kernels sum the gradients' products in an order that
    # depends on the host: 6e-7 already at step 1 on an AVX2 host; SGD's own rounding is PyTorch's, bit for bit),
    # may pick the other element: the bias then differs by 3.4e-4 after step 4 (seen on AVX2 hosts and on AMD
    # Zen 4 with AVX-512; from PyTorch's params after 3 steps, ember's step-4 gradients are PyTorch's to 2e-6).
    np.testing.assert_allclose(e_bias[:3], t_bias[:3], atol=1e-5)
    np.testing.assert_allclose(e_bias[3], t_bias[3], atol=1e-3)
    assert not np.allclose(e_bias[3], [1, 0, 0, 0, 1, 0])      # the transformer itself was trained


CASES = [((2, 16, 9, 11), (2, 7, 5, 2), mode, pad, ac) for mode in ('bilinear', 'nearest', 'bicubic')
         for pad in ('zeros', 'border', 'reflection') for ac in (False, True)] + \
        [((2, 5, 4, 6, 7), (2, 3, 5, 4, 3), mode, pad, False) for mode in ('bilinear', 'nearest')
         for pad in ('zeros', 'border', 'reflection')]


@pytest.mark.parametrize('xshape,gshape,mode,pad,ac', CASES)
def test_grid_sample_many_channels_matches_torch(xshape, gshape, mode, pad, ac):
    """grid_sample's channel-row gather and per-channel scatter against PyTorch in float64: values, input and grid
    gradients (coordinates reaching past the border so every padding mode's taps outside the image count)."""
    rng = np.random.default_rng(len(xshape) * 100 + xshape[1])
    x, grid = rng.standard_normal(xshape), rng.random(gshape) * 2.6 - 1.3
    res = []
    for L in (torch, ember):
        xt, gt = L.tensor(x, requires_grad=True), L.tensor(grid, requires_grad=True)
        y = L.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=ac)
        y.backward(L.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
        res.append((y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()))
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_grid_sample_nearest_grid_gradient_is_zero_whatever_the_input():
    """Nearest sampling is constant in the grid: its gradient is zeros even where a sampled value is NaN or inf."""
    x = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    x[0, 1, 2, 2], x[1, 0, 0, 0] = np.nan, np.inf
    grid = np.random.default_rng(0).random((2, 5, 5, 2)).astype(np.float32) * 2 - 1
    res = []
    for L in (torch, ember):
        xt, gt = L.tensor(x, requires_grad=True), L.tensor(grid, requires_grad=True)
        L.nn.functional.grid_sample(xt, gt, mode='nearest', align_corners=False).sum().backward()
        res.append(gt.grad.numpy())
    np.testing.assert_array_equal(res[1], res[0])
