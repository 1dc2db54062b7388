"""float32 accuracy of the convolutions that take ember's Winograd paths, against PyTorch's own float32 error: on
the same float32 inputs, the forward output, input gradient and weight gradient of ember and of PyTorch are each
compared with PyTorch in float64, and ember's error (root mean square, relative to the reference's) must stay
within RATIO times PyTorch's. Lavin's F(4x4, 3x3) points (0, +-1, +-2) were 7.7-10.6x PyTorch's here."""
import numpy as np
import pytest
import torch

import ember
from ember.nn.functional import _conv, _winograd, _winograd4, _winograd4_chunked, _winograd_s2

torch.set_num_threads(1)

RATIO = 6.0

CASES = [  # (path, x shape, out channels, kernel, stride, padding, transposed)
    (_winograd4, (4, 64, 32, 32), 64, 3, 1, 1, False),              # ResNet-18's first stage
    (_winograd4, (8, 128, 16, 16), 128, 3, 1, 1, False),            # its second, batch 8
    (_winograd, (4, 128, 16, 16), 128, 3, 1, 1, False),             # ... at batch 4 (F(2x2, 3x3))
    (_winograd, (8, 256, 8, 8), 256, 3, 1, 1, False),               # its third, batch 8
    (_winograd4_chunked, (64, 32, 26, 26), 64, 3, 1, 0, False),     # MNIST's second conv
    (_winograd_s2, (32, 32, 16, 16), 64, 4, 2, 1, False),           # DCGAN's discriminator
    (_winograd_s2, (32, 64, 8, 8), 32, 4, 2, 1, True),              # DCGAN's generator (transposed)
]


def _run(lib, dtype, x, w, g, stride, padding, transposed):
    """Forward output, input gradient and weight gradient of lib's conv in dtype, as float64 arrays."""
    conv = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
    xt = lib.tensor(x, dtype=dtype, requires_grad=True)
    wt = lib.tensor(w, dtype=dtype, requires_grad=True)
    y = conv(xt, wt, stride=stride, padding=padding)
    y.backward(lib.tensor(g, dtype=dtype))
    return [np.asarray(t.detach().numpy(), np.float64) for t in (y, xt.grad, wt.grad)]


def _error(a, ref):
    """Root mean square of a - ref over that of ref."""
    return np.sqrt(np.mean((a - ref) ** 2) / np.mean(ref ** 2))


@pytest.mark.parametrize('path,xs,oc,k,stride,padding,transposed', CASES, ids=lambda v: getattr(v, '__name__', str(v)).rsplit('.', 1)[-1])
def test_conv_float32_error_against_pytorch(path, xs, oc, k, stride, padding, transposed):
    """The conv takes ``path`` at the default thresholds, and each of its three float32 results is within RATIO
    times PyTorch's float32 error against float64."""
    _check_error(path, xs, oc, k, stride, padding, transposed)


def test_conv_float32_error_few_channels_at_one_thread():
    """A small U-Net's 32 -> 32 channel conv at 32x32, batch 8, takes F(4x4, 3x3) at one thread; its float32
    results are within RATIO times PyTorch's error too."""
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        _check_error(_winograd4, (8, 32, 32, 32), 32, 3, 1, 1, False)
    finally:
        ember.set_num_threads(before)


def _check_error(path, xs, oc, k, stride, padding, transposed):
    """test_conv_float32_error_against_pytorch's check of one case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    ws = (xs[1], oc, k, k) if transposed else (oc, xs[1], k, k)
    w = (rng.standard_normal(ws) / np.sqrt(xs[1] * k * k)).astype(np.float32)
    if transposed:      # the transposed conv's forward is the input gradient of the conv with its weight
        assert path.usable(np.zeros((xs[0], oc) + tuple(2 * s for s in xs[2:]), np.float32), w,
                           (stride, stride), (1, 1), 1, [(padding, padding)] * 2)
    else:
        assert _conv._winograd_for(x, w, (stride, stride), (1, 1), 1, [(padding, padding)] * 2) is path
    conv = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    yshape = conv(torch.zeros((1,) + xs[1:]), torch.zeros(ws), stride=stride, padding=padding).shape[1:]
    g = rng.standard_normal((xs[0],) + tuple(yshape)).astype(np.float32)
    ref = _run(torch, torch.float64, x, w, g, stride, padding, transposed)
    ours = _run(ember, ember.float32, x, w, g, stride, padding, transposed)
    theirs = _run(torch, torch.float32, x, w, g, stride, padding, transposed)
    for name, a, b, r in zip(('output', 'input gradient', 'weight gradient'), ours, theirs, ref):
        mine, pytorch = _error(a, r), _error(b, r)
        assert mine <= RATIO * pytorch, f'{name}: float32 error {mine:.2e}, PyTorch {pytorch:.2e}'
