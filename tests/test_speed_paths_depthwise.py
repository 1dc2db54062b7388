"""Depthwise convolutions (groups == input channels == output channels) take _depthwise's per-tap multiply-add
path: forward, input and weight gradients against PyTorch and float64 finite differences, over strides,
dilations, asymmetric and 'same' padding, 1-D and unbatched inputs, channels-last inputs, either gradient
alone, and a double backward; several samples a pass (_samples_per_block, a last pass of fewer) and one sample's
rows in blocks (_row_blocks) at MobileNetV2's sizes."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, assert_same

torch.set_num_threads(1)


def F(lib):
    return lib.nn.functional


DEPTHWISE = [  # (x shape, w shape, bias, kwargs)
    ((2, 4, 7, 6), (4, 1, 3, 3), True, dict(padding=1, groups=4)),
    ((2, 3, 9, 8), (3, 1, 3, 3), False, dict(stride=2, padding=1, groups=3)),
    ((1, 5, 10, 9), (5, 1, 7, 7), True, dict(padding=3, groups=5)),               # ConvNeXt's 7x7
    ((2, 4, 9, 9), (4, 1, 5, 5), True, dict(stride=2, padding=2, groups=4)),      # EfficientNet's 5x5 stride 2
    ((1, 3, 9, 10), (3, 1, 3, 3), True, dict(padding=2, dilation=2, groups=3)),
    ((2, 2, 8, 7), (2, 1, 3, 2), True, dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2)),
    ((1, 3, 6, 5), (3, 1, 2, 4), False, dict(padding='same', groups=3)),         # asymmetric padding
    ((2, 3, 5, 5), (3, 1, 3, 3), True, dict(groups=3)),                          # no padding
    ((3, 6, 7), (3, 1, 3, 3), True, dict(padding=1, groups=3)),                  # unbatched
    ((2, 4, 3, 3), (4, 1, 1, 1), True, dict(groups=4)),                          # 1x1 taps
    ((2, 3, 11, 10), (3, 1, 3, 3), True, dict(stride=3, padding=2, dilation=2, groups=3)),   # 3x3 stride phases
    ((1, 4, 9, 12), (4, 1, 3, 3), False, dict(stride=(2, 3), padding=1, dilation=(1, 2), groups=4)),
    ((2, 2, 5, 5), (2, 1, 3, 3), True, dict(stride=2, padding=4, groups=2)),      # pads past the taps' reach
]


@pytest.mark.parametrize('xs,ws,bias,kw', DEPTHWISE, ids=[str(i) for i in range(len(DEPTHWISE))])
def test_depthwise_conv2d(xs, ws, bias, kw):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_depthwise_takes_the_tap_path():
    """A MobileNet-sized depthwise conv keeps _depthwise's state for backward, and its three gradients match
    PyTorch's."""
    from ember.nn.functional import _depthwise
    y = F(ember).conv2d(ember.zeros(1, 4, 5, 5), ember.zeros(4, 1, 3, 3, requires_grad=True), padding=1, groups=4)
    assert isinstance(y.grad_fn.cols, _depthwise.Saved)
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, stride=2, padding=1, groups=32), (4, 32, 14, 14),
          (32, 1, 3, 3), (32,), atol=1e-4, gradcheck=False)


@pytest.mark.parametrize('kw', [dict(padding=1, groups=4), dict(stride=2, padding=2, dilation=2, groups=4)], ids=str)
def test_depthwise_conv1d(kw):
    check(lambda L, x, w, b: F(L).conv1d(x, w, b, **kw), (2, 4, 11), (4, 1, 3), (4,), atol=1e-4)


@pytest.mark.parametrize('need', ['input', 'weight'])
def test_depthwise_one_gradient(need):
    """Only the input's, or only the weight's, gradient asked for: the other stays None, as in PyTorch."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 6, 8, 8)).astype(np.float32), rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    g = rng.standard_normal((2, 6, 8, 8)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=need == 'input'), lib.tensor(w, requires_grad=need == 'weight')
        F(lib).conv2d(xt, wt, padding=1, groups=6).backward(lib.tensor(g))
        assert (xt.grad is None) == (need == 'weight') and (wt.grad is None) == (need == 'input')
        grads.append(xt.grad if need == 'input' else wt.grad)
    assert_same(grads[0], grads[1], 1e-4, 1e-4, f'grad of {need}')


def test_depthwise_channels_last_input():
    """A channels-last input (strided samples) gives PyTorch's values and a channels-last result."""
    def fn(L, x, w, b):
        y = F(L).conv2d(x.contiguous(memory_format=L.channels_last), w, b, padding=1, groups=5)
        assert y.is_contiguous(memory_format=L.channels_last)
        return y
    check(fn, (2, 5, 6, 7), (5, 1, 3, 3), (5,), atol=1e-4)


def test_depthwise_double_backward():
    check(lambda L, x, w: F(L).conv2d(x, w, padding=1, groups=2), (1, 2, 4, 4), (2, 1, 3, 3), atol=1e-4,
          gradgrad=True)


@pytest.mark.parametrize('xs,kw', [((8, 144, 32, 32), dict(padding=1)), ((8, 144, 32, 32), dict(stride=2, padding=1)),
                                   ((9, 576, 8, 8), dict(stride=2, padding=1)), ((8, 960, 4, 4), dict(padding=1)),
                                   ((3, 192, 16, 16), dict(padding=2, dilation=2))], ids=str)
def test_depthwise_mobilenet_sizes(xs, kw):
    """Real sizes: one sample's rows in blocks (144 x 32x32), several samples a pass with a shorter last one (9
    samples of 576 x 4x4 outputs, seven a pass), whole passes (960 x 4x4): PyTorch's values and gradients."""
    c = xs[1]
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, groups=c, **kw), xs, (c, 1, 3, 3), (c,), atol=1e-4,
          gradcheck=False)


@pytest.mark.parametrize('kw', [dict(padding=1), dict(stride=2, padding=1), dict(stride=(1, 2), padding=(2, 1),
                                                                                 dilation=(2, 1))], ids=str)
def test_depthwise_sample_passes_gradients(monkeypatch, kw):
    """Two samples a pass over five samples (the last pass one sample), float64 finite differences and PyTorch."""
    from ember.nn.functional import _depthwise
    monkeypatch.setattr(_depthwise, '_BLOCK', 2 * 5 * 5 * 3 * 8)
    check(lambda L, x, w: F(L).conv2d(x, w, groups=3, **kw), (5, 3, 5, 5), (3, 1, 3, 3), atol=1e-4)


@pytest.mark.parametrize('xs,k,kw', [((2, 64, 9, 11), (3, 3), dict(padding=1)),
                                     ((2, 96, 13, 12), (3, 5), dict(padding=(1, 2), dilation=(2, 1))),
                                     ((1, 64, 10, 10), (4, 4), dict(padding='same')),
                                     ((1, 64, 40, 40), (7, 7), dict(padding=3))], ids=str)
@pytest.mark.filterwarnings('ignore:Using padding')
def test_depthwise_one_sum_forward(monkeypatch, xs, k, kw):
    """From _ONE_SUM_CHANNELS channels a stride-1 forward sums its taps in one einsum per sample and row block: the
    same values bit for bit as the per-tap passes (signed zeros too), and PyTorch's within float32 rounding."""
    from ember.nn.functional import _depthwise
    rng = np.random.default_rng(xs[1])
    x0 = rng.standard_normal(xs).astype(np.float32)
    x0[0, :3] = -0.0
    w0 = rng.standard_normal((xs[1], 1) + k).astype(np.float32)
    run = lambda lib: F(lib).conv2d(lib.tensor(x0), lib.tensor(w0), groups=xs[1], **kw).numpy()
    assert _depthwise._one_sum(_depthwise._phase_groups(k, (1, 1), kw.get('dilation', (1, 1))), xs[1])
    one = run(ember)
    monkeypatch.setattr(_depthwise, '_ONE_SUM_CHANNELS', 1 << 30)
    assert one.tobytes() == run(ember).tobytes()
    np.testing.assert_allclose(one, run(torch), rtol=1e-5, atol=1e-5)
