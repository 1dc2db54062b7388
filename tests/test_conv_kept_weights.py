"""The 4x4 stride-2 conv's transformed weights, kept between forwards while the weight's bits are unchanged
(_winograd_s2.kept): every way of changing a weight in place gives PyTorch's output on the next forward, those that
bump no version counter (a write through ``.data`` or ``.numpy()``) included."""
import numpy as np
import pytest
import torch

import ember
from ember.nn.functional import _winograd_s2


def _pair(seed):
    """The same Conv2d(32, 64, 4, 2, 1) in ember and PyTorch, and an input for both."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((64, 32, 4, 4)) * 0.05).astype(np.float32)
    x = rng.standard_normal((8, 32, 16, 16)).astype(np.float32)
    convs = []
    for lib in (ember, torch):
        conv = lib.nn.Conv2d(32, 64, 4, 2, 1, bias=False)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        convs.append(conv)
    return convs, x


def _same(convs, x):
    """ember's forward (and its weight gradient) equal PyTorch's to float32 rounding."""
    outs = []
    for lib, conv in zip((ember, torch), convs):
        conv.weight.grad = None
        y = conv(lib.tensor(x))
        y.square().sum().backward()
        outs.append((y.detach().numpy(), conv.weight.grad.numpy()))
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * np.abs(want).max())


CHANGES = {  # a change of the weight in place, applied to each library's conv
    'data_clamp': lambda lib, c: c.weight.data.clamp_(-0.01, 0.01),
    'numpy_write': lambda lib, c: c.weight.detach().numpy().__setitem__((slice(None), 0), 0.5),
    'no_grad_mul': lambda lib, c: _no_grad(lib, lambda: c.weight.mul_(-2)),
    'sgd_step': lambda lib, c: lib.optim.SGD(c.parameters(), lr=0.5).step(),
    'load_state_dict': lambda lib, c: c.load_state_dict({'weight': c.weight.detach().flip(0) * 3}),
    'negated_zero': lambda lib, c: _no_grad(lib, lambda: c.weight.copy_(c.weight * 0 - 0.0)),
}


def _no_grad(lib, fn):
    with lib.no_grad():
        fn()


@pytest.mark.parametrize('change', sorted(CHANGES))
def test_kept_weights_follow_in_place_changes(change, monkeypatch):
    """Two forwards (the second reuses the transform, counted), then a change in place, then a forward: PyTorch's
    values each time."""
    made = []
    transform = _winograd_s2.weight_transform
    monkeypatch.setattr(_winograd_s2, 'weight_transform', lambda w, out=None: made.append(1) or transform(w, out))
    convs, x = _pair(0)
    _same(convs, x)
    _same(convs, x)
    assert len(made) == 1           # the second forward took the kept transform
    for lib, conv in zip((ember, torch), convs):
        CHANGES[change](lib, conv)
    _same(convs, x)
    assert len(made) == 2           # the changed weight was transformed anew


def test_kept_weights_are_read_only_and_bounded():
    """The kept transform is read-only (autograd's saved U is never written), and what is kept stays under its
    bound however many weights pass."""
    for _ in range(40):
        conv = ember.nn.Conv2d(64, 128, 4, 2, 1, bias=False)
        with ember.no_grad():
            conv(ember.randn(2, 64, 8, 8))
    assert sum(b.nbytes + u.nbytes for b, u in _winograd_s2._KEPT.values()) <= _winograd_s2._KEPT_BYTES
    assert all(not u.flags.writeable for _, u in _winograd_s2._KEPT.values())
