"""Convolutions, pooling and padding against PyTorch: the same inputs (and torch's weights copied into
ember) must give the same outputs, grad_fn names, max-pool indices and gradients of the input and every
parameter, over many configurations; each custom node also passes float64 gradcheck, and a few pass
gradgradcheck (double backward through conv, pool and pad)."""
import math
import zlib

import numpy as np
import pytest
import torch

import ember
from helpers import check, assert_same

torch.set_num_threads(1)  # the oracle's multi-threaded RNN kernels crawl on a busy 2-core machine


def F(lib):
    return lib.nn.functional


def rnd(*shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


# -- convolutions -----------------------------------------------------------------------------------------------
CONV2D = [  # (x shape, w shape, bias, kwargs)
    ((2, 3, 6, 7), (4, 3, 3, 3), True, {}),
    ((1, 2, 6, 5), (3, 2, 2, 3), False, {}),
    ((2, 2, 7, 7), (3, 2, 3, 3), True, dict(stride=2)),
    ((1, 2, 7, 8), (2, 2, 3, 2), True, dict(stride=(2, 3), padding=(1, 2))),
    ((1, 2, 6, 6), (3, 2, 3, 3), True, dict(padding=1)),
    ((1, 2, 6, 5), (3, 2, 3, 3), True, dict(padding='same')),
    ((1, 2, 6, 5), (3, 2, 2, 4), True, dict(padding='same')),
    ((1, 2, 6, 6), (3, 2, 2, 2), True, dict(padding='same', dilation=2)),
    ((1, 2, 6, 5), (3, 2, 3, 3), False, dict(padding='valid')),
    ((1, 2, 7, 7), (2, 2, 3, 3), True, dict(dilation=2)),
    ((1, 2, 8, 7), (2, 2, 2, 3), True, dict(dilation=(2, 1), stride=2, padding=1)),
    ((1, 4, 5, 5), (6, 2, 3, 3), True, dict(groups=2)),
    ((1, 4, 5, 5), (4, 1, 3, 3), False, dict(groups=4, padding=1)),
    ((1, 6, 5, 6), (3, 2, 2, 2), True, dict(groups=3, stride=2)),
    ((2, 3, 5, 5), (2, 3, 1, 1), True, {}),
    ((1, 1, 5, 5), (1, 1, 5, 5), True, {}),
    ((3, 5, 5), (2, 3, 3, 3), True, dict(padding=1)),
    ((2, 3, 8, 8), (4, 3, 1, 1), True, dict(stride=2)),     # stride 2: im2col/col2im through the parity split
    ((2, 4, 9, 8), (3, 4, 4, 3), False, dict(stride=2, padding=2, dilation=(1, 2))),
]


@pytest.mark.parametrize('xs,ws,bias,kw', CONV2D, ids=[str(i) for i in range(len(CONV2D))])
def test_conv2d(xs, ws, bias, kw):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


@pytest.mark.parametrize('xs,ws,bias,kw', [CONV2D[i] for i in (0, 3, 7, 11, 16)], ids=str)
def test_conv2d_chunked_im2col(monkeypatch, xs, ws, bias, kw):
    """Big batches build the im2col matrix a few samples at a time (and rebuild it in backward)."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_CHUNK_FROM', 0)
    monkeypatch.setattr(_conv, '_CHUNK_BYTES', 1)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4, gradcheck=False)


def test_conv2d_columns_many_times_the_input_are_rebuilt(monkeypatch):
    """An im2col conv whose columns pass _CHUNK_BYTES and _KEEP_RATIO times its input (LeNet's second conv) keeps
    none for backward: it builds them in parts and rebuilds them there; values and gradients match PyTorch's. One
    whose columns are fewer times its input (3x3 kernels, stride 1 or 2) keeps them."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_FIRST_COLS', 0)
    monkeypatch.setattr(_conv, '_CHUNK_BYTES', 3 * 150 * 64 * 4)     # three samples' columns of the 5x5 conv
    x = ember.randn(7, 6, 12, 12, requires_grad=True)
    assert _conv._rebuilt(x._data, 150 * 64 * 4)        # columns 150 x 64 a sample: 11.1 times the input
    y = ember.nn.functional.conv2d(x, ember.randn(4, 6, 5, 5, requires_grad=True))
    assert isinstance(y.grad_fn.cols, _conv._Parts) and y.grad_fn.cols.cols is None
    assert len(y.grad_fn.cols.slices) == 4      # three parts' worth, an even count: the same at one thread and two
    check(lambda L, x, w, b: F(L).conv2d(x, w, b), (7, 6, 12, 12), (4, 6, 5, 5), (4,), atol=1e-4, gradcheck=False)
    big = np.zeros((8, 64, 16, 16), np.float32)
    assert not _conv._rebuilt(big, 576 * 8 * 8 * 4) and not _conv._rebuilt(big, 576 * 16 * 16 * 4)  # 3x3: 2.25, 9 times


@pytest.mark.parametrize('xs,ws,bias,kw', [c for c in CONV2D if 'groups' not in c[3]], ids=str)
def test_conv2d_per_sample(monkeypatch, xs, ws, bias, kw):
    """Every ungrouped conv run as one GEMM per sample (the few-tap path, its threshold raised) matches
    PyTorch and float64 gradcheck: strides, dilation, asymmetric 'same' padding, unbatched input."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_SAMPLE_TAPS', 1 << 30)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_conv_per_sample_at_mnist_size():
    """MNIST's 1 -> 32 channel 3x3 conv takes the per-sample path (LeNet's 3 -> 6 5x5 one does not) and agrees
    with PyTorch, its input and weight gradients included; conv1d takes it too."""
    from ember.nn.functional import _conv
    assert _conv._per_sample(np.zeros((32, 1, 3, 3)), 1) and not _conv._per_sample(np.zeros((6, 3, 5, 5)), 1)
    assert _conv._per_sample(np.zeros((64, 3, 3, 3)), 1) and _conv._per_sample(np.zeros((32, 3, 4, 4)), 1)  # RGB
    y = F(ember).conv2d(ember.zeros(2, 1, 6, 6), ember.zeros(3, 1, 3, 3, requires_grad=True))
    assert isinstance(y.grad_fn.cols, _conv._Samples)
    check(lambda L, x, w, b: F(L).conv2d(x, w, b), (16, 1, 28, 28), (32, 1, 3, 3), (32,), atol=1e-4,
          gradcheck=False)
    check(lambda L, x, w, b: F(L).conv1d(x, w, b, stride=2, padding=1), (3, 2, 9), (4, 2, 3), (4,), atol=1e-4)


WINOGRAD = [  # 3x3 stride-1 convs run as Winograd F(2x2, 3x3) with the size thresholds lowered
    ((2, 3, 7, 6), (5, 3, 3, 3), True, dict(padding=1)),
    ((2, 3, 5, 5), (4, 3, 3, 3), False, {}),
    ((1, 4, 6, 7), (3, 4, 3, 3), True, dict(padding=2)),
    ((1, 2, 8, 9), (3, 2, 3, 3), True, dict(padding=(0, 2))),
    ((1, 2, 5, 4), (2, 2, 3, 3), False, dict(padding='same')),
    ((2, 6, 6), (3, 2, 3, 3), True, dict(padding=1)),
]


@pytest.mark.parametrize('xs,ws,bias,kw', WINOGRAD, ids=str)
def test_conv2d_winograd(monkeypatch, xs, ws, bias, kw):
    """Forward, input and weight gradients of the Winograd path match PyTorch (and float64 gradcheck)."""
    from ember.nn.functional import _winograd
    monkeypatch.setattr(_winograd, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_winograd, '_MIN_TILES', 1)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


@pytest.mark.parametrize('xs,ws,bias,kw', WINOGRAD, ids=str)
def test_conv2d_winograd_chunked(monkeypatch, xs, ws, bias, kw):
    """The Winograd path run one sample at a time (its backward rebuilding V per chunk and taking the input
    gradient as the forward's adjoint) matches PyTorch (and float64 gradcheck)."""
    from ember.nn.functional import _winograd
    for name, value in (('_MIN_CHANNELS', 1 << 30), ('_MIN_CHUNKED_CHANNELS', 1), ('_MIN_TILES', 1),
                        ('_CHUNK_FROM', 0), ('_CHUNK_BYTES', 1)):
        monkeypatch.setattr(_winograd, name, value)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_conv2d_winograd_chunked_at_odd_size():
    """A 32 -> 64 channel conv at 27x27 (output sides not multiples of 4), batch 64, takes the chunked F(2x2, 3x3)
    path (not at batch 4, which is not chunked), and its output and gradients agree with PyTorch to float32
    rounding."""
    from ember.nn.functional import _winograd, _winograd4_chunked
    x, w = np.zeros((64, 32, 27, 27), np.float32), np.zeros((64, 32, 3, 3), np.float32)
    assert _winograd.usable(x, w, (1, 1), (1, 1), 1, ((0, 0), (0, 0)))
    assert not _winograd4_chunked.usable(x, w, (1, 1), (1, 1), 1, ((0, 0), (0, 0)))
    assert len(_winograd.chunks(x, 96, (25, 25))) > 1
    assert not _winograd.usable(x[:4], w, (1, 1), (1, 1), 1, ((0, 0), (0, 0)))
    assert not _winograd.usable(x[:, :16], w[:, :16], (1, 1), (1, 1), 1, ((0, 0), (0, 0)))
    check(lambda L, x, w, b: F(L).conv2d(x, w, b), (64, 32, 27, 27), (64, 32, 3, 3), (64,), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)


WINOGRAD4_CHUNKED = [  # 3x3 stride-1 convs with output sides multiples of 4 as chunked F(4x4, 3x3), thresholds lowered
    ((3, 2, 6, 10), (3, 2, 3, 3), True, {}),
    ((2, 3, 4, 8), (4, 3, 3, 3), False, dict(padding=1)),
    ((2, 3, 2, 6), (2, 3, 3, 3), True, dict(padding=2)),
    ((2, 6, 6), (3, 2, 3, 3), True, {}),                     # unbatched: (C, H, W)
]


@pytest.mark.parametrize('xs,ws,bias,kw', WINOGRAD4_CHUNKED, ids=str)
def test_conv2d_winograd4_chunked(monkeypatch, xs, ws, bias, kw):
    """The chunked F(4x4, 3x3) path run one sample at a time (its transforms as per-axis or Kronecker GEMMs, the
    input gradient as the forward's adjoint, V rebuilt per chunk) matches PyTorch and float64 gradcheck."""
    from ember.nn.functional import _winograd4_chunked
    for name, value in (('_MIN_CHANNELS', 1), ('_CHUNK_FROM', 0), ('_CHUNK_BYTES', 1), ('_FORWARD_BYTES', 1)):
        monkeypatch.setattr(_winograd4_chunked, name, value)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)
    y = F(ember).conv2d(ember.ones(xs), ember.ones(ws, requires_grad=True), **kw)
    assert isinstance((y.grad_fn.next_functions[0][0] if len(xs) == 3 else y.grad_fn).cols, _winograd4_chunked.Saved)


def test_conv2d_winograd4_chunked_at_mnist_size():
    """MNIST's 32 -> 64 channel conv at 26x26 (24x24 out) takes the chunked F(4x4, 3x3) path at batch 64 (in
    chunks, not at batch 8), and its output and gradients agree with PyTorch within float32 tolerance (F(4x4, 3x3)
    rounds more than F(2x2, 3x3): about 1.5e-6 of the largest value)."""
    from ember.nn.functional import _conv, _winograd4_chunked
    x, w = np.zeros((64, 32, 26, 26), np.float32), np.zeros((64, 32, 3, 3), np.float32)
    pads = ((0, 0), (0, 0))
    assert _conv._winograd_for(x, w, (1, 1), (1, 1), 1, pads) is _winograd4_chunked
    assert len(_winograd4_chunked.chunks(x, 96, (24, 24))) > 1
    assert not _winograd4_chunked.usable(x[:8], w, (1, 1), (1, 1), 1, pads)
    assert not _winograd4_chunked.usable(x[:, :16], w[:, :16], (1, 1), (1, 1), 1, pads)
    assert not _winograd4_chunked.usable(x[:, :, :25], w, (1, 1), (1, 1), 1, pads)
    check(lambda L, x, w, b: F(L).conv2d(x, w, b), (64, 32, 26, 26), (64, 32, 3, 3), (64,), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)


TAP_SUMS = [  # stride-1 convs to few output channels, whose forward goes as tap sums (_conv._tap_sums)
    ((2, 8, 6, 7), (2, 8, 3, 3), True, dict(padding=1)),
    ((2, 6, 7, 5), (1, 6, 3, 2), False, {}),                    # no padding, a 3x2 kernel
    ((1, 8, 9, 8), (1, 8, 3, 3), True, dict(padding=2, dilation=2)),
    ((2, 8, 6, 6), (1, 8, 4, 4), False, dict(padding='same')),  # uneven padding
    ((2, 8, 5, 6), (2, 8, 3, 3), True, dict(padding=(2, 1))),
    ((8, 5, 5), (1, 8, 3, 3), True, dict(padding=1)),           # unbatched
]


@pytest.mark.parametrize('xs,ws,bias,kw', TAP_SUMS, ids=str)
def test_conv2d_tap_sums(monkeypatch, xs, ws, bias, kw):
    """Forward, input and weight gradients of convs to few output channels (the forward as tap sums, columns size
    threshold lowered) match PyTorch, and float64 gradcheck."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_CHUNK_FROM', 0)
    x4 = np.zeros(xs if len(xs) == 4 else (1,) + xs, np.float32)
    pads = kw.get('padding', 0)
    if pads == 'same':
        pads = ((1, 2), (1, 2))
    else:
        pads = tuple((p, p) for p in ((pads, pads) if isinstance(pads, int) else pads))
    d = (kw.get('dilation', 1),) * 2
    o = _conv._out_size(x4.shape[2:], pads, ws[2:], (1, 1), d)
    assert _conv._few_outputs(x4, np.zeros(ws, np.float32), (1, 1), 1, pads, o)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_conv_tap_sums_at_unet_size():
    """A U-Net's last conv (32 -> 3 channels, 3x3, 32x32, batch 8) and a 1-D conv to one channel take the tap sums;
    a conv to as many channels as it reads, a 1x1 kernel, a stride of 2, groups or a small batch (columns kept for
    backward) do not. Values and gradients agree with PyTorch within float32 tolerance."""
    from ember.nn.functional import _conv
    pads = ((1, 1), (1, 1))
    x, w = np.zeros((8, 32, 32, 32), np.float32), np.zeros((3, 32, 3, 3), np.float32)
    assert _conv._few_outputs(x, w, (1, 1), 1, pads, (32, 32))
    assert not _conv._few_outputs(x, np.zeros((32, 32, 3, 3), np.float32), (1, 1), 1, pads, (32, 32))
    assert not _conv._few_outputs(x, np.zeros((3, 32, 1, 1), np.float32), (1, 1), 1, ((0, 0), (0, 0)), (32, 32))
    assert not _conv._few_outputs(x, w, (2, 2), 1, pads, (16, 16))
    assert not _conv._few_outputs(x, np.zeros((3, 8, 3, 3), np.float32), (1, 1), 4, pads, (32, 32))
    assert not _conv._few_outputs(x[:2], w, (1, 1), 1, pads, (32, 32))
    assert _conv._few_outputs(np.zeros((16, 64, 1, 2000), np.float32), np.zeros((1, 64, 1, 5), np.float32), (1, 1),
                              1, ((0, 0), (2, 2)), (1, 2000))
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), (8, 32, 32, 32), (3, 32, 3, 3), (3,), atol=1e-4,
          rtol=1e-4, gradcheck=False, low=-0.5, high=0.5)
    check(lambda L, x, w: F(L).conv1d(x, w, padding=2), (16, 64, 2000), (1, 64, 5), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)


@pytest.fixture
def one_thread():
    """ember at one thread for the test (its count put back after)."""
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    yield
    ember.set_num_threads(before)


def test_conv2d_winograd4_few_channels(one_thread):
    """A small U-Net's 32-channel 3x3 conv at 32x32 (batch 8) takes F(4x4, 3x3) at one thread and at two (512
    tile columns; not at batch 6 there), not with 16 channels, and not at batch 16 (_winograd4_chunked's batch);
    its 96 -> 32 conv at batch 8 too (V and M past 8 MiB, a batch of at most _FEW_BATCH), not at batch 16. Output
    and gradients agree with PyTorch within float32 tolerance."""
    from ember.nn.functional import _conv, _winograd4, _winograd4_chunked
    x, w = np.zeros((8, 32, 32, 32), np.float32), np.zeros((32, 32, 3, 3), np.float32)
    pads = ((1, 1), (1, 1))
    assert _conv._winograd_for(x, w, (1, 1), (1, 1), 1, pads) is _winograd4
    assert not _winograd4.usable(x[:, :16], w[:, :16], (1, 1), (1, 1), 1, pads)
    x16 = np.zeros((16, 32, 32, 32), np.float32)
    assert _conv._winograd_for(x16, w, (1, 1), (1, 1), 1, pads) is _winograd4_chunked
    wide, w96 = np.zeros((8, 96, 32, 32), np.float32), np.zeros((32, 96, 3, 3), np.float32)   # V and M 9.4 MiB
    assert _conv._winograd_for(wide, w96, (1, 1), (1, 1), 1, pads) is _winograd4
    assert _conv._winograd_for(np.zeros((16, 96, 32, 32), np.float32), w96, (1, 1), (1, 1), 1, pads) \
        is _winograd4_chunked
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), (8, 32, 32, 32), (32, 32, 3, 3), (32,), atol=1e-4,
          rtol=1e-4, gradcheck=False, low=-0.5, high=0.5)
    check(lambda L, x, w: F(L).conv2d(x, w, padding=1), (8, 96, 32, 32), (32, 96, 3, 3), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)
    assert _winograd4.usable(x[:6], w, (1, 1), (1, 1), 1, pads)
    ember.set_num_threads(2)
    assert _winograd4.usable(x, w, (1, 1), (1, 1), 1, pads)
    assert not _winograd4.usable(x[:6], w, (1, 1), (1, 1), 1, pads)


def test_conv2d_winograd_at_resnet_size():
    """A 64-channel conv at 8x8 (batch 8: 128 tile columns) takes the Winograd path at the default
    thresholds only when it has enough tiles, and agrees with PyTorch to float32 rounding either way."""
    from ember.nn.functional import _winograd
    x, w = np.zeros((8, 64, 8, 8), np.float32), np.zeros((64, 64, 3, 3), np.float32)
    assert _winograd.usable(x, w, (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd.usable(x[:2], w, (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd.usable(x, w, (2, 2), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd.usable(x[:, :32], w[:, :32], (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    check(lambda L, x, w: F(L).conv2d(x, w, padding=1), (8, 64, 8, 8), (64, 64, 3, 3), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)



WINOGRAD4 = [  # 3x3 stride-1 padding-1 convs on sides a multiple of 4 as Winograd F(4x4, 3x3), thresholds lowered
    ((2, 3, 8, 12), (5, 3, 3, 3), True, dict(padding=1)),
    ((1, 2, 4, 4), (3, 2, 3, 3), False, dict(padding='same')),
    ((2, 4, 8), (2, 2, 3, 3), True, dict(padding=1)),       # unbatched: (C, H, W)
]


@pytest.mark.parametrize('xs,ws,bias,kw', WINOGRAD4, ids=str)
def test_conv2d_winograd4(monkeypatch, xs, ws, bias, kw):
    """Forward, input and weight gradients of the F(4x4, 3x3) path match PyTorch (and float64 gradcheck)."""
    from ember.nn.functional import _winograd4
    monkeypatch.setattr(_winograd4, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_winograd4, '_MIN_TILES', 1)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_conv2d_winograd4_at_resnet_size():
    """ResNet-18's 64-channel 32x32 and 128-channel 16x16 convs (batch 8) take F(4x4, 3x3) at the default
    thresholds, its 256-channel 8x8 ones (32 tiles) and other paddings or sizes do not; values agree with
    PyTorch within float32 tolerance (F(4x4, 3x3) rounds more than F(2x2, 3x3): 1e-5 of the largest output)."""
    from ember.nn.functional import _winograd4
    pads = ((1, 1), (1, 1))
    x, w = np.zeros((8, 64, 32, 32), np.float32), np.zeros((64, 64, 3, 3), np.float32)
    assert _winograd4.usable(x, w, (1, 1), (1, 1), 1, pads)
    assert _winograd4.usable(np.zeros((8, 128, 16, 16), np.float32), np.zeros((128, 128, 3, 3), np.float32),
                             (1, 1), (1, 1), 1, pads)
    assert not _winograd4.usable(np.zeros((8, 256, 8, 8), np.float32), np.zeros((256, 256, 3, 3), np.float32),
                                 (1, 1), (1, 1), 1, pads)
    assert not _winograd4.usable(x, w, (1, 1), (1, 1), 1, ((0, 0), (0, 0)))
    assert not _winograd4.usable(x[:, :, :30], w, (1, 1), (1, 1), 1, pads)
    assert not _winograd4.usable(x, w, (1, 1), (2, 2), 1, pads)
    check(lambda L, x, w: F(L).conv2d(x, w, padding=1), (8, 64, 16, 16), (64, 64, 3, 3), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)


@pytest.mark.parametrize('hw', [(4, 6), (5, 3), (1, 2)], ids=str)
def test_winograd_grad_tiles(hw):
    """The weight gradient's tile transform is A g A^T (A's last row negated) of every zero-padded 2x2 tile
    of the output gradient, laid out (4, 4, O, th, tw, N) as the forward's V."""
    from ember.nn.functional import _winograd
    g = np.random.default_rng(0).standard_normal((3, 2) + hw)
    th, tw = (hw[0] + 1) // 2, (hw[1] + 1) // 2
    gp = np.zeros((3, 2, 2 * th, 2 * tw))
    gp[:, :, :hw[0], :hw[1]] = g
    tiles = gp.reshape(3, 2, th, 2, tw, 2).transpose(3, 5, 1, 2, 4, 0)      # (2, 2, O, th, tw, N)
    a = np.array([[1, 0], [1, 1], [1, -1], [0, 1]])
    want = np.einsum('ap,bq,pqoijn->aboijn', a, a, tiles)
    got = np.zeros_like(want)
    _winograd._grad_tiles(g, got)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)

WINOGRAD_S2 = [  # 4x4 stride-2 padding-1 convs and transposed convs as Winograd F(2x2, 2x2), threshold lowered
    ('conv2d', (2, 3, 8, 6), (5, 3, 4, 4), True, {}),
    ('conv2d', (1, 2, 7, 5), (3, 2, 4, 4), False, {}),          # odd sizes: a partial last tile
    ('conv2d', (2, 6, 6), (2, 2, 4, 4), True, {}),              # unbatched
    ('conv_transpose2d', (2, 3, 4, 3), (3, 5, 4, 4), True, {}),
    ('conv_transpose2d', (1, 2, 3, 5), (2, 3, 4, 4), False, dict(output_padding=1)),
    ('conv_transpose2d', (1, 4, 1, 1), (4, 2, 4, 4), True, dict(output_padding=(1, 0))),
    ('conv_transpose2d', (2, 3, 5, 2), (3, 2, 4, 4), False, dict(output_padding=(0, 1))),   # odd tile counts
    ('conv2d', (2, 2, 9, 4), (3, 2, 4, 4), False, {}),          # input gradient: odd rows, one partial tile
    ('conv2d', (1, 3, 2, 3), (2, 3, 4, 4), True, {}),           # input gradient: one tile, cropped
]


@pytest.mark.parametrize('op,xs,ws,bias,kw', WINOGRAD_S2, ids=str)
def test_stride2_winograd(monkeypatch, op, xs, ws, bias, kw):
    """Forward, input and weight gradients of the stride-2 Winograd path match PyTorch (and gradcheck)."""
    from ember.nn.functional import _winograd_s2
    monkeypatch.setattr(_winograd_s2, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_winograd_s2, '_MAX_ODD', 0)     # odd sides too
    out_ch = ws[1] if op == 'conv_transpose2d' else ws[0]
    shapes = [xs, ws] + ([(out_ch,)] if bias else [])
    check(lambda L, x, w, *b: getattr(F(L), op)(x, w, *b, stride=2, padding=1, **kw), *shapes, atol=1e-4)


def test_stride2_winograd_at_dcgan_size():
    """DCGAN's 32 -> 64 channel 4x4 stride-2 conv and 64 -> 32 transposed conv take the Winograd path at the
    default threshold (a 3-channel one does not, nor other strides or paddings) and agree with PyTorch."""
    from ember.nn.functional import _winograd_s2
    x, w = np.zeros((4, 32, 8, 8), np.float32), np.zeros((64, 32, 4, 4), np.float32)
    assert _winograd_s2.usable(x, w, (2, 2), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd_s2.usable(x[:, :3], w[:, :3], (2, 2), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd_s2.usable(x, w, (1, 1), (1, 1), 1, ((1, 1), (1, 1)))
    assert not _winograd_s2.usable(x, w, (2, 2), (1, 1), 1, ((0, 0), (0, 0)))
    for op, ws in (('conv2d', (64, 32, 4, 4)), ('conv_transpose2d', (32, 16, 4, 4))):
        check(lambda L, x, w: getattr(F(L), op)(x, w, stride=2, padding=1), (4, 32, 8, 8), ws, atol=1e-4,
              gradcheck=False, low=-0.5, high=0.5)


def test_stride2_winograd_leaves_small_odd_outputs_to_im2col():
    """A VAE's 4x4 stride-2 convs on MNIST (14x14 -> 7x7, and the transposed 7x7 -> 14x14) have an odd output
    side of at most _MAX_ODD and go to im2col; a 15x15 output still takes the Winograd path. Values and gradients
    agree with PyTorch either way."""
    from ember.nn.functional import _winograd_s2
    pads, w = ((1, 1), (1, 1)), np.zeros((64, 32, 4, 4), np.float32)
    assert not _winograd_s2.usable(np.zeros((2, 32, 14, 14), np.float32), w, (2, 2), (1, 1), 1, pads)
    assert not _winograd_s2.usable(np.zeros((2, 32, 7, 7), np.float32), w, (2, 2), (1, 1), 1, pads, transposed=True)
    assert not _winograd_s2.usable(np.zeros((2, 32, 16, 14), np.float32), w, (2, 2), (1, 1), 1, pads)
    assert _winograd_s2.usable(np.zeros((2, 32, 30, 30), np.float32), w, (2, 2), (1, 1), 1, pads)
    assert _winograd_s2.usable(np.zeros((2, 32, 15, 15), np.float32), w, (2, 2), (1, 1), 1, pads, transposed=True)
    y = ember.nn.functional.conv2d(ember.zeros(2, 32, 14, 14, requires_grad=True), ember.tensor(w), stride=2, padding=1)
    assert not isinstance(y.grad_fn.cols, _winograd_s2.Saved)
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, stride=2, padding=1), (4, 32, 14, 14), (64, 32, 4, 4), (64,),
          atol=1e-4, gradcheck=False, low=-0.5, high=0.5)
    check(lambda L, x, w: F(L).conv_transpose2d(x, w, stride=2, padding=1), (4, 64, 7, 7), (64, 32, 4, 4),
          atol=1e-4, gradcheck=False, low=-0.5, high=0.5)


STRIDE2_3X3 = [  # 3x3 stride-2 padding-1 convs in the polyphase Winograd form, thresholds lowered
    ((2, 3, 8, 8), (4, 3, 3, 3), True),
    ((1, 2, 7, 9), (3, 2, 3, 3), False),        # odd sides: a partial last tile down and across
    ((2, 2, 6, 5), (2, 2, 3, 3), True),
    ((2, 2, 1, 2), (3, 2, 3, 3), False),        # one input row: one tile, mostly padding
    ((3, 6, 6), (2, 3, 3, 3), True),            # unbatched
]


@pytest.mark.parametrize('xs,ws,bias', STRIDE2_3X3, ids=str)
def test_conv2d_stride2_3x3(monkeypatch, xs, ws, bias):
    """Forward, input and weight gradients of the 3x3 stride-2 path match PyTorch, and float64 gradcheck."""
    from ember.nn.functional import _stride2
    monkeypatch.setattr(_stride2, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_stride2, '_MIN_TILES', 1)
    monkeypatch.setattr(_stride2, 'small_kernels', lambda: False)   # whichever kernels the run loaded
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, stride=2, padding=1), *shapes, atol=1e-4)


@pytest.mark.parametrize('need', [(True, False), (False, True)], ids=['input', 'weight'])
def test_conv2d_stride2_3x3_one_gradient(monkeypatch, need):
    """The 3x3 stride-2 path with only the input's or only the weight's gradient (a frozen weight keeps no
    transformed input; a first layer's input needs none) gives PyTorch's gradient."""
    from ember.nn.functional import _stride2
    monkeypatch.setattr(_stride2, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_stride2, '_MIN_TILES', 1)
    monkeypatch.setattr(_stride2, 'small_kernels', lambda: False)   # whichever kernels the run loaded
    x0, w0, g0 = rnd(2, 3, 9, 8, seed=1), rnd(4, 3, 3, 3, seed=2), rnd(2, 4, 5, 4, seed=3)
    grads = []
    for lib in (ember, torch):
        x, w = lib.tensor(x0, requires_grad=need[0]), lib.tensor(w0, requires_grad=need[1])
        y = F(lib).conv2d(x, w, stride=2, padding=1)
        if lib is ember:
            assert isinstance(y.grad_fn.cols, _stride2.Saved) and (y.grad_fn.cols.v is None) == (not need[1])
        y.backward(lib.tensor(g0))
        grads.append((x if need[0] else w).grad)
    assert_same(grads[0], grads[1], atol=1e-4)


def test_conv2d_stride2_3x3_at_resnet_size(monkeypatch):
    """ResNet-18's 64 -> 128 and 128 -> 256 channel stride-2 convs (batch 8) take the path at the default
    thresholds on an OpenBLAS without small-matrix kernels (not the 256 -> 512 one at 8x8, 32 tiles, nor other
    strides, paddings or kernels, nor any with small-matrix kernels), and agree with PyTorch to float32 rounding."""
    from ember.nn.functional import _stride2
    pads = ((1, 1), (1, 1))
    monkeypatch.setattr(_stride2, 'small_kernels', lambda: True)
    assert not _stride2.usable(np.zeros((8, 64, 32, 32), np.float32), np.zeros((128, 64, 3, 3), np.float32), (2, 2),
                               (1, 1), 1, pads)
    monkeypatch.setattr(_stride2, 'small_kernels', lambda: False)
    usable = (lambda x, w, s=(2, 2), p=pads: _stride2.usable(np.zeros(x, np.float32), np.zeros(w, np.float32),
                                                             s, (1, 1), 1, p))
    assert usable((8, 64, 32, 32), (128, 64, 3, 3)) and usable((8, 128, 16, 16), (256, 128, 3, 3))
    assert not usable((8, 256, 8, 8), (512, 256, 3, 3))
    assert not usable((8, 64, 32, 32), (128, 64, 3, 3), (1, 1))
    assert not usable((8, 64, 32, 32), (128, 64, 3, 3), p=((0, 0), (0, 0)))
    assert not usable((8, 64, 32, 32), (128, 64, 1, 1)) and not usable((8, 3, 32, 32), (64, 3, 3, 3))
    check(lambda L, x, w: F(L).conv2d(x, w, stride=2, padding=1), (2, 64, 32, 32), (128, 64, 3, 3), atol=1e-4,
          rtol=1e-4, gradcheck=False, low=-0.5, high=0.5)


@pytest.mark.parametrize('xs,ws,kw', [((2, 256, 8, 8), (512, 256, 3, 3), dict(stride=2, padding=1)),
                                      ((2, 64, 8, 8), (128, 64, 1, 1), {}),
                                      ((40, 3, 6, 6), (4, 3, 2, 2), dict(stride=2))], ids=str)
def test_conv_weight_gradient_of_a_short_batch_is_contiguous(xs, ws, kw):
    """An im2col conv whose output pixels times samples M are few (at most 512) and whose output channels are at
    least M / 2 (ResNet-18's 256x8x8 -> 512 stride-2 conv, a 1x1 conv) takes its weight gradient's product
    untransposed, C-contiguous (a transposed one was copied again on becoming .grad); fewer channels (the last
    case) or a longer M keep the transposed product. The values match PyTorch either way."""
    from ember.nn.functional import _conv
    rng = np.random.default_rng(0)

    def contiguous(o, m, k):
        g2, cols = rng.standard_normal((o, m)).astype(np.float32), rng.standard_normal((k, m)).astype(np.float32)
        return _conv._weight_product(g2, cols, 1).flags.c_contiguous
    assert contiguous(512, 360, 2304) and contiguous(180, 360, 64)
    assert not contiguous(179, 360, 64) and not contiguous(512, 720, 64) and not contiguous(16, 400, 150)
    check(lambda L, x, w: F(L).conv2d(x, w, **kw), xs, ws, atol=1e-4, rtol=1e-4, gradcheck=xs[1] < 64,
          low=-0.5, high=0.5)


def test_im2col_parts_only_where_the_weight_gradient_is_smaller_than_a_parts_columns():
    """At two threads an im2col conv goes in batch parts unless a part's weight gradient would outsize its columns
    (ResNet-18's 256x8x8 -> 512 stride-2 conv at batch 8: 512 output channels, 64 output pixels times samples a
    part); that one runs whole, and matches PyTorch."""
    from ember.nn.functional import _conv
    before = ember.get_num_threads()
    x, w = np.zeros((8, 256, 8, 8), np.float32), np.zeros((512, 256, 3, 3), np.float32)
    try:
        for t in (2, 1):
            ember.set_num_threads(t)
            assert len(_conv._parts(x, w, (4, 4))) == 1
            assert len(_conv._parts(np.zeros((8, 64, 16, 16), np.float32), np.zeros((32, 64, 3, 3), np.float32),
                                    (16, 16))) == t
        ember.set_num_threads(2)
        check(lambda L, x, w: F(L).conv2d(x, w, stride=2, padding=1), (8, 256, 8, 8), (512, 256, 3, 3), atol=1e-4,
              rtol=1e-4, gradcheck=False, low=-0.5, high=0.5)
    finally:
        ember.set_num_threads(before)


TAPS = [  # stride-1 convs run as one GEMM per kernel tap (padding skipped) with the thresholds lowered
    ((2, 3, 4, 4), (5, 3, 3, 3), True, dict(padding=1)),
    ((1, 4, 3, 5), (3, 4, 2, 3), False, dict(padding=(2, 1), dilation=(1, 2))),
    ((2, 2, 4, 3), (3, 2, 3, 3), True, dict(padding='same', dilation=2)),
    ((2, 6, 5), (3, 2, 3, 3), False, dict(padding=1)),
    ((2, 6, 1, 4), (4, 6, 5, 3), True, dict(padding=2)),     # taps that read only padding: no weight gradient
]


@pytest.mark.parametrize('xs,ws,bias,kw', TAPS, ids=str)
def test_conv2d_per_tap(monkeypatch, xs, ws, bias, kw):
    """Forward, input gradient and weight gradient of the per-tap path (small images) match PyTorch, and float64
    gradcheck."""
    from ember.nn.functional import _taps, _winograd
    monkeypatch.setattr(_taps, '_MIN_CHANNELS', 1)
    monkeypatch.setattr(_taps, '_MAX_SIZE', 99)
    monkeypatch.setattr(_winograd, '_MIN_CHANNELS', 1 << 30)
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv2d(x, w, *b, **kw), *shapes, atol=1e-4)


def test_conv2d_per_tap_at_resnet_size():
    """ResNet-18's 512-channel 3x3 convs at 4x4 take the per-tap path at the default thresholds (not the
    stride-2 one, nor 8x8 images), and agree with PyTorch to float32 rounding."""
    from ember.nn.functional import _taps
    w = np.zeros((512, 512, 3, 3), np.float32)
    assert _taps.usable(w, (1, 1), (4, 4), 1)
    assert not _taps.usable(w, (2, 2), (4, 4), 1)
    assert not _taps.usable(w, (1, 1), (8, 8), 1)
    assert not _taps.usable(w[:128, :128], (1, 1), (4, 4), 1)
    check(lambda L, x, w: F(L).conv2d(x, w, padding=1), (2, 256, 4, 4), (256, 256, 3, 3), atol=1e-4, rtol=1e-4,
          gradcheck=False, low=-0.5, high=0.5)


PARITY_COL2IM = [  # strides dividing the kernel: the input gradient / transposed conv sums windows by parity
    ('conv2d', (2, 3, 9, 7), (4, 3, 4, 2), dict(stride=2, padding=(0, 1))),
    ('conv2d', (1, 2, 10, 11), (3, 2, 6, 3), dict(stride=(3, 3), padding=(2, 1))),
    ('conv_transpose2d', (2, 3, 3, 4), (3, 2, 6, 4), dict(stride=(3, 2), padding=(2, 1), output_padding=(2, 1))),
    ('conv_transpose2d', (1, 2, 4, 3), (2, 3, 2, 2), dict(stride=2)),
]


@pytest.mark.parametrize('op,xs,ws,kw', PARITY_COL2IM, ids=str)
def test_parity_col2im(op, xs, ws, kw):
    """Input gradients of convs and transposed convs whose stride divides the kernel match PyTorch."""
    check(lambda L, x, w: getattr(F(L), op)(x, w, **kw), xs, ws, atol=1e-4)


POINT_COL2IM = [  # 1x1 kernels: the input gradient / transposed conv adds each column onto its own pixel
    ('conv2d', (2, 3, 8, 8), (4, 3, 1, 1), dict(stride=2)),      # ResNet's stride-2 shortcut
    ('conv2d', (2, 3, 7, 9), (4, 3, 1, 1), dict(stride=2)),      # odd sides: the last row and column get none
    ('conv2d', (1, 2, 7, 8), (3, 2, 1, 1), dict(stride=(3, 2), padding=(1, 2))),     # points in the padding
    ('conv2d', (1, 2, 5, 6), (3, 2, 1, 1), dict(padding=1)),
    ('conv2d', (1, 4, 6, 6), (4, 2, 1, 1), dict(stride=2, groups=2)),
    ('conv_transpose2d', (2, 3, 4, 4), (3, 2, 1, 1), dict(stride=2, padding=1, output_padding=1)),
    ('conv_transpose2d', (1, 2, 3, 4), (2, 3, 1, 1), dict(stride=(3, 2), output_padding=(2, 1))),
]


@pytest.mark.parametrize('op,xs,ws,kw', POINT_COL2IM, ids=str)
def test_point_col2im(monkeypatch, op, xs, ws, kw):
    """Input gradients of 1x1 convs and 1x1 transposed convs taking the im2col path (per-sample path off), whose
    columns are added straight onto their pixels (_col2im_points), match PyTorch and float64 gradcheck."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_SAMPLE_TAPS', 0)
    calls = []
    points = _conv._col2im_points
    monkeypatch.setattr(_conv, '_col2im_points', lambda *a: calls.append(1) or points(*a))
    check(lambda L, x, w: getattr(F(L), op)(x, w, **kw), xs, ws, atol=1e-4)
    assert calls


ALIASED = [  # batch 16 and 4 KiB samples: the spaced and channel-blocked layout copies of _conv run
    ('conv2d', (16, 4, 16, 16), (4, 4, 3, 3), dict(padding=1)),
    ('conv2d', (16, 4, 16, 16), (8, 4, 4, 4), dict(stride=2, padding=1)),
    ('conv_transpose2d', (16, 16, 8, 8), (16, 4, 4, 4), dict(stride=2, padding=1)),
]


@pytest.mark.parametrize('name,xs,ws,kw', ALIASED, ids=str)
def test_conv_at_cache_aliasing_sizes(monkeypatch, name, xs, ws, kw):
    """The layout copies taken at batch >= 16 give PyTorch's results and the same bits as plain copies."""
    from ember.nn.functional import _conv
    check(lambda L, x, w: getattr(F(L), name)(x, w, **kw), xs, ws, atol=1e-4, gradcheck=False)
    x, w = rnd(*xs), rnd(*ws, seed=1)

    def run():
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = getattr(F(ember), name)(xt, wt, **kw)
        y.backward(ember.tensor(rnd(*y.shape, seed=2)))
        return [t.numpy() for t in (y.detach(), xt.grad, wt.grad)]
    fast = run()
    monkeypatch.setattr(_conv, '_ALIAS', 1 << 62)
    monkeypatch.setattr(_conv, '_BLOCK', 1 << 62)
    for a, b in zip(fast, run()):
        assert np.array_equal(a, b)


def test_conv_of_an_empty_batch():
    check(lambda L, x, w: F(L).conv2d(x, w), (0, 3, 8, 8), (4, 3, 3, 3), gradcheck=False)


CONV1D = [
    ((2, 3, 9), (4, 3, 3), True, {}),
    ((1, 2, 8), (3, 2, 2), False, dict(stride=3, padding=2)),
    ((1, 2, 7), (3, 2, 4), True, dict(padding='same')),
    ((1, 2, 9), (2, 2, 3), True, dict(dilation=3, padding='same')),
    ((1, 4, 7), (6, 2, 3), True, dict(groups=2, stride=2)),
    ((2, 9), (3, 2, 3), True, {}),
]


@pytest.mark.parametrize('xs,ws,bias,kw', CONV1D, ids=[str(i) for i in range(len(CONV1D))])
def test_conv1d(xs, ws, bias, kw):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv1d(x, w, *b, **kw), *shapes, atol=1e-4)


CONVT2D = [
    ((2, 3, 4, 5), (3, 2, 3, 3), True, {}),
    ((1, 2, 3, 4), (2, 3, 2, 3), False, dict(stride=2)),
    ((1, 2, 4, 3), (2, 2, 3, 3), True, dict(stride=2, padding=1, output_padding=1)),
    ((1, 2, 3, 3), (2, 2, 3, 2), True, dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1))),
    ((1, 2, 3, 4), (2, 2, 2, 2), True, dict(dilation=2, padding=1)),
    ((1, 2, 3, 3), (2, 1, 2, 2), True, dict(dilation=3, output_padding=2)),
    ((1, 4, 3, 3), (4, 3, 2, 2), True, dict(groups=2, stride=2)),
    ((2, 4, 4), (2, 3, 3, 3), True, dict(padding=1)),
]


@pytest.mark.parametrize('xs,ws,bias,kw', CONVT2D, ids=[str(i) for i in range(len(CONVT2D))])
def test_conv_transpose2d(xs, ws, bias, kw):
    groups = kw.get('groups', 1)
    shapes = [xs, ws] + ([(ws[1] * groups,)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv_transpose2d(x, w, *b, **kw), *shapes, atol=1e-4)


@pytest.mark.parametrize('kw', [{}, dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2)])
def test_conv_transpose1d(kw):
    check(lambda L, x, w, b: F(L).conv_transpose1d(x, w, b, **kw), (2, 4, 5), (4, 3, 3), (3 * kw.get('groups', 1),),
          atol=1e-4)


@pytest.mark.parametrize('k,d,p,s', [(2, 1, 0, 1), (3, 2, 1, 2), ((2, 3), 1, (1, 0), (2, 1))])
def test_unfold_fold(k, d, p, s):
    check(lambda L, x: F(L).unfold(x, k, d, p, s), (2, 3, 6, 7))
    n = F(torch).unfold(torch.zeros(2, 3, 6, 7), k, d, p, s).shape
    check(lambda L, x: F(L).fold(x, (6, 7), k, d, p, s), tuple(n))


@pytest.mark.parametrize('case', ['conv', 'conv_groups_same', 'convT', 'convT_groups', 'conv1d'])
def test_conv_double_backward(case):
    fns = {
        'conv': (lambda L, x, w, b: F(L).conv2d(x, w, b, stride=2, padding=1), [(1, 2, 5, 5), (2, 2, 2, 2), (2,)]),
        'conv_groups_same': (lambda L, x, w: F(L).conv2d(x, w, padding='same', dilation=2, groups=2),
                             [(1, 2, 4, 5), (2, 1, 2, 3)]),
        'convT': (lambda L, x, w, b: F(L).conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                  [(1, 2, 3, 3), (2, 2, 3, 2), (2,)]),
        'convT_groups': (lambda L, x, w: F(L).conv_transpose2d(x, w, None, 1, 0, 1, 2, 2),
                         [(1, 2, 3, 3), (2, 1, 2, 2)]),
        'conv1d': (lambda L, x, w: F(L).conv1d(x, w, stride=2, padding=1), [(1, 2, 6), (3, 2, 3)]),
    }
    fn, shapes = fns[case]
    check(fn, *shapes, atol=1e-4, gradgrad=True)


def test_conv_errors_match_torch():
    cases = [
        lambda L: F(L).conv2d(L.randn(2, 4, 8, 8), L.randn(6, 3, 3, 3)),
        lambda L: F(L).conv2d(L.randn(2, 3, 2, 2), L.randn(6, 3, 3, 3)),
        lambda L: F(L).conv2d(L.randn(3, 8), L.randn(6, 3, 3, 3)),
        lambda L: F(L).conv2d(L.randn(2, 3, 8, 8), L.randn(6, 3, 3, 3), padding='same', stride=2),
        lambda L: F(L).conv2d(L.randn(2, 3, 8, 8), L.randn(6, 3, 3, 3), padding='foo'),
        lambda L: F(L).conv2d(L.randn(2, 4, 8, 8), L.randn(6, 2, 3, 3), groups=3),
        lambda L: F(L).conv2d(L.randn(2, 3, 8, 8), L.randn(6, 3, 3, 3), stride=0),
        lambda L: F(L).conv2d(L.randn(2, 3, 8, 8), L.randn(6, 3, 3, 3), padding=-1),
        lambda L: F(L).conv2d(L.randn(2, 3, 8, 8), L.randn(6, 3, 3, 3), L.randn(5)),
        lambda L: F(L).conv_transpose2d(L.randn(2, 3, 8, 8), L.randn(3, 6, 3, 3), output_padding=1),
        lambda L: F(L).conv_transpose2d(L.randn(2, 4, 8, 8), L.randn(3, 6, 3, 3)),
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as te:
            case(torch)
        with pytest.raises(RuntimeError) as ee:
            case(ember)
        assert str(ee.value) == str(te.value)


# -- pooling -------------------------------------------------------------------------------------------------------
MAXPOOL = [
    ((2, 3, 6, 6), dict(kernel_size=2)),
    ((1, 2, 7, 9), dict(kernel_size=2)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 8), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ((1, 2, 8, 8), dict(kernel_size=2, dilation=2)),
    ((1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1))),
    ((1, 2, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 5, 5), dict(kernel_size=1, stride=2)),
    ((3, 6, 6), dict(kernel_size=2)),
]


@pytest.mark.parametrize('xs,kw', MAXPOOL, ids=[str(i) for i in range(len(MAXPOOL))])
def test_max_pool2d(xs, kw):
    out = check(lambda L, x: F(L).max_pool2d(x, **kw), xs)
    x = rnd(*xs)
    te, ti = F(torch).max_pool2d(torch.tensor(x), return_indices=True, **kw)
    ee, ei = F(ember).max_pool2d(ember.tensor(x), return_indices=True, **kw)
    assert_same(ee, te)
    assert_same(ei, ti)
    assert out.shape == ee.shape


@pytest.mark.parametrize('xs,kw', MAXPOOL[:9], ids=[str(i) for i in range(9)])
def test_max_pool2d_ties_and_nan_follow_torch(xs, kw):
    """Integer-valued inputs (many ties) and NaNs: PyTorch's first-max-in-scan-order and NaN rules."""
    x = np.random.default_rng(3).integers(0, 3, xs).astype(np.float32)
    x.reshape(-1)[[1, 17, 40]] = np.nan
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    to, ti = F(torch).max_pool2d(tx, return_indices=True, **kw)
    eo, ei = F(ember).max_pool2d(ex, return_indices=True, **kw)
    assert_same(eo, to)
    assert_same(ei, ti)
    g = rnd(*to.shape, seed=1)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    assert_same(ex.grad, tx.grad)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, dilation=2, ceil_mode=True)])
def test_max_pool1d(kw):
    check(lambda L, x: F(L).max_pool1d(x, **kw), (2, 3, 9))
    x = rnd(2, 3, 9)
    assert_same(F(ember).max_pool1d(ember.tensor(x), return_indices=True, **kw)[1],
                F(torch).max_pool1d(torch.tensor(x), return_indices=True, **kw)[1])


AVGPOOL = [
    ((2, 3, 6, 6), dict(kernel_size=2)),
    ((1, 2, 7, 9), dict(kernel_size=3, stride=2)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((1, 2, 7, 8), dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ((1, 2, 6, 6), dict(kernel_size=2, divisor_override=3)),
    ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=2)),
    ((3, 6, 5), dict(kernel_size=2, ceil_mode=True)),
]


@pytest.mark.parametrize('xs,kw', AVGPOOL, ids=[str(i) for i in range(len(AVGPOOL))])
def test_avg_pool2d(xs, kw):
    check(lambda L, x: F(L).avg_pool2d(x, **kw), xs)


@pytest.mark.parametrize('kw', [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)])
def test_avg_pool1d(kw):
    check(lambda L, x: F(L).avg_pool1d(x, **kw), (2, 3, 9))


@pytest.mark.parametrize('size', [1, 2, 3, (4, 5), (None, 2), 7, (9, 1)])
def test_adaptive_pools_2d(size):
    check(lambda L, x: F(L).adaptive_avg_pool2d(x, size), (2, 3, 7, 9))
    check(lambda L, x: F(L).adaptive_max_pool2d(x, size), (2, 3, 7, 9))
    x = rnd(2, 3, 7, 9)
    assert_same(F(ember).adaptive_max_pool2d(ember.tensor(x), size, True)[1],
                F(torch).adaptive_max_pool2d(torch.tensor(x), size, True)[1])
    ties = np.random.default_rng(0).integers(0, 3, (2, 3, 7, 9)).astype(np.float32)
    ties.reshape(-1)[[3, 4, 20, 50, 51]] = np.nan
    for e, t in zip(F(ember).adaptive_max_pool2d(ember.tensor(ties), size, True),
                    F(torch).adaptive_max_pool2d(torch.tensor(ties), size, True)):
        assert_same(e, t)


@pytest.mark.parametrize('size', [1, 3, 4, 9])
def test_adaptive_pools_1d(size):
    check(lambda L, x: F(L).adaptive_avg_pool1d(x, size), (2, 3, 9))
    check(lambda L, x: F(L).adaptive_max_pool1d(x, size), (2, 3, 9))


def test_max_unpool_and_lp_pool():
    x = rnd(2, 3, 6, 6)
    _, ti = F(torch).max_pool2d(torch.tensor(x), 2, return_indices=True)
    _, ei = F(ember).max_pool2d(ember.tensor(x), 2, return_indices=True)
    idx = {torch: ti, ember: ei}
    check(lambda L, v: F(L).max_unpool2d(v, idx[L], 2), (2, 3, 3, 3))
    check(lambda L, v: F(L).lp_pool2d(v, 2, 2), (2, 3, 6, 6), positive=True)


@pytest.mark.parametrize('case', ['max', 'max_overlap', 'avg', 'avg_pad', 'adaptive_avg', 'adaptive_max'])
def test_pool_double_backward(case):
    fns = {
        'max': lambda L, x: F(L).max_pool2d(x, 2),
        'max_overlap': lambda L, x: F(L).max_pool2d(x, 3, 2, 1, ceil_mode=True),
        'avg': lambda L, x: F(L).avg_pool2d(x, 2),
        'avg_pad': lambda L, x: F(L).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        'adaptive_avg': lambda L, x: F(L).adaptive_avg_pool2d(x, (2, 3)),
        'adaptive_max': lambda L, x: F(L).adaptive_max_pool2d(x, (2, 3)),
    }
    check(fns[case], (1, 2, 5, 5), gradgrad=True)


def test_pool_errors_match_torch():
    cases = [
        lambda L: F(L).max_pool2d(L.randn(2, 3, 8, 8), 3, padding=2),
        lambda L: F(L).max_pool2d(L.randn(2, 3, 1, 1), 3),
        lambda L: F(L).avg_pool2d(L.randn(2, 3, 1, 1), 3),
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as te:
            case(torch)
        with pytest.raises(RuntimeError) as ee:
            case(ember)
        assert str(ee.value) == str(te.value)


# -- padding ----------------------------------------------------------------------------------------------------------
PADS = [((2, 3, 5), (1, 2)), ((3, 5), (2, 1)), ((2, 3, 4, 5), (1, 2, 2, 1)), ((3, 4, 5), (1, 0, 0, 3)),
        ((1, 2, 3, 4, 5), (1, 1, 2, 1, 0, 2))]


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
@pytest.mark.parametrize('xs,pad', PADS, ids=[str(i) for i in range(len(PADS))])
def test_pad(mode, xs, pad):
    check(lambda L, x: F(L).pad(x, pad, mode=mode), xs)


def test_pad_constant_value_and_negative():
    check(lambda L, x: F(L).pad(x, (-1, 2, 0, -2), value=3.0), (2, 3, 4, 5))
    check(lambda L, x: F(L).pad(x, (1, 1, 1, 1, 1, 1)), (2, 3, 4, 5))


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
def test_pad_double_backward(mode):
    check(lambda L, x: F(L).pad(x, (1, 2, 2, 1), mode=mode), (1, 2, 3, 4), gradgrad=True)


def test_pad_errors_match_torch():
    cases = [
        (RuntimeError, lambda L: F(L).pad(L.randn(2, 3, 4), (4, 4), mode='reflect')),
        (NotImplementedError, lambda L: F(L).pad(L.randn(2, 3, 4), (1, 1, 1, 1, 1, 1), mode='reflect')),
        (RuntimeError, lambda L: F(L).pad(L.randn(2, 3, 4), (1,))),
        (RuntimeError, lambda L: F(L).pad(L.randn(2, 3, 4), (5, 1), mode='circular')),
        (NotImplementedError, lambda L: F(L).pad(L.randn(2, 3, 4), (1, 1), mode='foo')),
    ]
    for exc, case in cases:
        with pytest.raises(exc) as te:
            case(torch)
        with pytest.raises(exc) as ee:
            case(ember)
        assert str(ee.value) == str(te.value)


# -- layers -----------------------------------------------------------------------------------------------------------
def copy_state(tm, em):
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def run_both(make, *shapes, call=None):
    """torch's module and its ember twin (torch's weights) on the same input: outputs, reprs and all grads."""
    torch.manual_seed(0)
    tm, em = make(torch.nn), make(ember.nn)
    assert repr(em) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in em.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in tm.named_parameters()]
    copy_state(tm, em)
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    ti = [torch.tensor(a, requires_grad=True) for a in arrays]
    ei = [ember.tensor(a, requires_grad=True) for a in arrays]
    call = call or (lambda m, *xs: m(*xs))
    to, eo = call(tm, *ti), call(em, *ei)
    assert_same(eo, to, atol=1e-4, what='output')
    to, eo = (to[0], eo[0]) if isinstance(to, tuple) else (to, eo)
    g = rnd(*to.shape, seed=9)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    for a, b in zip(ei, ti):
        assert_same(a.grad, b.grad, atol=1e-4, rtol=1e-3, what='input grad')
    tp = dict(tm.named_parameters())
    for k, p in em.named_parameters():
        assert_same(p.grad, tp[k].grad, atol=1e-4, rtol=1e-3, what=f'grad of {k}')


LAYERS = [
    ('Conv2d', lambda nn: nn.Conv2d(3, 6, 5), [(2, 3, 9, 9)]),
    ('Conv2d_full', lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                                         bias=False), [(2, 4, 7, 8)]),
    ('Conv2d_same', lambda nn: nn.Conv2d(2, 3, 4, padding='same'), [(1, 2, 6, 5)]),
    ('Conv2d_valid', lambda nn: nn.Conv2d(2, 3, 3, padding='valid'), [(1, 2, 6, 5)]),
    ('Conv2d_reflect', lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode='reflect'), [(1, 2, 5, 6)]),
    ('Conv2d_circular', lambda nn: nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode='circular'), [(1, 2, 5, 6)]),
    ('Conv2d_replicate_same', lambda nn: nn.Conv2d(2, 3, 4, padding='same', padding_mode='replicate'),
     [(1, 2, 5, 6)]),
    ('Conv2d_unbatched', lambda nn: nn.Conv2d(2, 3, 3), [(2, 5, 6)]),
    ('Conv1d', lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), [(2, 3, 9)]),
    ('Conv1d_groups', lambda nn: nn.Conv1d(4, 4, 2, groups=4, dilation=2, bias=False), [(2, 4, 9)]),
    ('ConvTranspose2d', lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
     [(2, 3, 4, 5)]),
    ('ConvTranspose2d_groups', lambda nn: nn.ConvTranspose2d(4, 6, (2, 3), groups=2, dilation=2, bias=False),
     [(1, 4, 3, 4)]),
    ('ConvTranspose1d', lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=3), [(2, 3, 4)]),
    ('MaxPool2d', lambda nn: nn.MaxPool2d(2, 2), [(2, 3, 6, 6)]),
    ('MaxPool2d_full', lambda nn: nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True), [(2, 3, 9, 9)]),
    ('MaxPool1d', lambda nn: nn.MaxPool1d(3, 2), [(2, 3, 9)]),
    ('AvgPool2d', lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [(2, 3, 7, 7)]),
    ('AvgPool1d', lambda nn: nn.AvgPool1d(2), [(2, 3, 9)]),
    ('AdaptiveAvgPool2d', lambda nn: nn.AdaptiveAvgPool2d((3, None)), [(2, 3, 7, 5)]),
    ('AdaptiveAvgPool1d', lambda nn: nn.AdaptiveAvgPool1d(4), [(2, 3, 9)]),
    ('AdaptiveMaxPool2d', lambda nn: nn.AdaptiveMaxPool2d(3), [(2, 3, 7, 5)]),
    ('AdaptiveMaxPool1d', lambda nn: nn.AdaptiveMaxPool1d(4), [(2, 3, 9)]),
    ('LPPool2d', lambda nn: nn.LPPool2d(2, 2), [(2, 3, 6, 6)]),
    ('ZeroPad2d', lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), [(2, 3, 4, 4)]),
    ('ConstantPad1d', lambda nn: nn.ConstantPad1d(2, 3.5), [(2, 3, 4)]),
    ('ConstantPad2d', lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0), [(2, 3, 4)]),
    ('ReflectionPad1d', lambda nn: nn.ReflectionPad1d((2, 1)), [(2, 3, 4)]),
    ('ReflectionPad2d', lambda nn: nn.ReflectionPad2d(2), [(2, 3, 4, 4)]),
    ('ReplicationPad1d', lambda nn: nn.ReplicationPad1d(3), [(2, 3, 4)]),
    ('ReplicationPad2d', lambda nn: nn.ReplicationPad2d((1, 2, 3, 0)), [(2, 3, 4, 4)]),
    ('CircularPad2d', lambda nn: nn.CircularPad2d(1), [(2, 3, 4, 4)]),
]


@pytest.mark.parametrize('name,make,shapes', LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, shapes):
    run_both(make, *shapes)


def test_max_pool_layer_return_indices_and_unpool():
    def call(m, x):
        out, idx = m[0](x)
        return m[1](out, idx), idx
    run_both(lambda nn: nn.ModuleList([nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)]), (2, 3, 6, 6),
             call=call)


def test_conv_transpose_output_size():
    def call(m, x):
        return m(x, output_size=[8, 10])
    run_both(lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), (1, 3, 4, 5), call=call)
    with pytest.raises(ValueError):
        ember.nn.ConvTranspose2d(3, 2, 3, stride=2)(ember.randn(1, 3, 4, 5), output_size=[20, 20])


REPRS = [
    lambda nn: nn.Conv2d(3, 6, 5),
    lambda nn: nn.Conv2d(4, 8, 3, 1, 'same', 2, 2, False, 'reflect'),
    lambda nn: nn.Conv2d(4, 8, (3, 1), padding='valid'),
    lambda nn: nn.Conv1d(3, 6, 5, stride=2, padding=1),
    lambda nn: nn.ConvTranspose2d(3, 6, 3, 2, 1, 1),
    lambda nn: nn.ConvTranspose1d(3, 6, 3, dilation=2, groups=3),
    lambda nn: nn.MaxPool2d(2, 2),
    lambda nn: nn.MaxPool2d((2, 3), ceil_mode=True),
    lambda nn: nn.MaxPool1d(3),
    lambda nn: nn.AvgPool1d(3),
    lambda nn: nn.AvgPool2d(3, 2, 1),
    lambda nn: nn.AdaptiveAvgPool2d((5, None)),
    lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True),
    lambda nn: nn.MaxUnpool2d(2),
    lambda nn: nn.LPPool2d(2, 3),
    lambda nn: nn.ZeroPad2d(2),
    lambda nn: nn.ConstantPad1d(2, 3.5),
    lambda nn: nn.ReflectionPad2d((1, 2, 3, 4)),
    lambda nn: nn.ReplicationPad2d(1),
    lambda nn: nn.CircularPad1d(2),
]


@pytest.mark.parametrize('make', REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_repr_matches_torch(make):
    assert repr(make(ember.nn)) == repr(make(torch.nn))


def test_conv_init_bounds_and_attributes():
    ember.manual_seed(0)
    m = ember.nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert w.shape == (32, 16, 3, 3) and w.dtype == np.float32 and m.weight.requires_grad
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(b).max() <= bound
    assert (m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
            m.padding_mode, m.transposed, m.output_padding) == (16, 32, (3, 3), (1, 1), (0, 0), (1, 1), 1, 'zeros',
                                                               False, (0, 0))
    t = ember.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(t.weight.shape) == (4, 3, 3, 3) and t.transposed
    with pytest.raises(ValueError):
        ember.nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError):
        ember.nn.Conv2d(3, 6, 3, stride=2, padding='same')
    with pytest.raises(ValueError):
        ember.nn.ConvTranspose2d(3, 6, 3, padding_mode='reflect')


def test_lenet_training_steps_match_torch():
    """The course's CIFAR-10 LeNet: same weights and data give the same losses over a few SGD steps."""
    def build(L):
        nn = L.nn
        return nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                             nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                             nn.ReLU(), nn.Linear(84, 10))
    torch.manual_seed(0)
    tm, em = build(torch), build(ember)
    copy_state(tm, em)
    x, y = rnd(4, 3, 32, 32), np.random.default_rng(0).integers(0, 10, 4)
    losses = {}
    for L, m in ((torch, tm), (ember, em)):
        opt = L.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        crit = L.nn.CrossEntropyLoss()
        out = []
        for _ in range(3):
            opt.zero_grad()
            loss = crit(m(L.tensor(x)), L.tensor(y))
            loss.backward()
            opt.step()
            out.append(loss.item())
        losses[L] = out
    np.testing.assert_allclose(losses[ember], losses[torch], rtol=1e-4)


@pytest.mark.parametrize('xshape', [(2, 3, 12, 12), (64, 3, 32, 32)])   # the second's columns are chunked
def test_conv_backward_twice_with_retain_graph(xshape):
    """A conv frees its kept im2col columns during a backward that does not retain the graph; with
    retain_graph=True a second backward still has them and doubles the gradients, as in PyTorch."""
    x, w = rnd(*xshape), rnd(6, 3, 5, 5, seed=1)

    def f(lib):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = F(lib).conv2d(xt, wt).relu().sum()
        y.backward(retain_graph=True)
        y.backward()
        return xt.grad, wt.grad
    e, t = f(ember), f(torch)
    assert_same(e[0], t[0], rtol=1e-4, atol=1e-4)
    assert_same(e[1], t[1], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize('stride', [2, 1])
def test_max_pool_backward_unselected_positions_are_plus_zero(stride):
    """Positions no window picked get +0 even for negative or infinite upstream gradients (they gave -0. and
    nan), for tiling and overlapping windows, bitwise as PyTorch."""
    x = np.array([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, -1.0, -2.0], [0.5, 0.2, 0.1, 7.0]]]], np.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.max_pool2d(t, 2, stride)
        g = np.full(tuple(y.shape), -1.0, np.float32)
        g.reshape(-1)[-1] = np.inf
        y.backward(lib.tensor(g))
        grads.append(t.grad.numpy() if lib is torch else t.grad._data)
    assert np.array_equal(grads[0].view(np.int32), grads[1].view(np.int32)), grads


# -- empty inputs: no channels, no samples (PyTorch returns (N, 0, ...) with zero gradients, or raises) -----------
EMPTY_CONV = [  # (module, input shape)
    (lambda nn: nn.Conv2d(0, 4, 3), (2, 0, 5, 5)),
    (lambda nn: nn.Conv2d(0, 4, 3, bias=False), (2, 0, 5, 5)),
    (lambda nn: nn.Conv2d(0, 4, 3, stride=2, dilation=2, padding=1), (2, 0, 9, 9)),
    (lambda nn: nn.Conv2d(0, 4, 3, padding='same'), (0, 0, 5, 5)),
    (lambda nn: nn.Conv1d(0, 4, 3, padding=1), (2, 0, 5)),
    (lambda nn: nn.Conv1d(0, 4, 3), (0, 5)),
    (lambda nn: nn.Conv3d(0, 2, 3), (1, 0, 4, 4, 4)),
    (lambda nn: nn.Conv2d(4, 6, 3, groups=2), (0, 4, 5, 5)),
    (lambda nn: nn.Conv1d(4, 6, 3, groups=2), (0, 4, 5)),
    (lambda nn: nn.Conv3d(4, 6, 3, groups=2), (0, 4, 5, 5, 5)),
    (lambda nn: nn.ConvTranspose2d(4, 6, 3, groups=2), (0, 4, 5, 5)),
    (lambda nn: nn.ConvTranspose1d(4, 6, 3), (0, 4, 5)),
    (lambda nn: nn.ConvTranspose2d(0, 4, 3), (2, 0, 5, 5)),       # PyTorch: weight needs >= groups rows
    (lambda nn: nn.Conv2d(3, 0, 3), (2, 3, 5, 5)),
    (lambda nn: nn.Conv2d(0, 4, 3), (2, 0, 2, 2)),                # kernel larger than the input
    (lambda nn: nn.Conv2d(0, 4, 3, padding=1, padding_mode='reflect'), (2, 0, 5, 5)),
]


def _empty_conv(lib, make, shape):
    import warnings
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # "Initializing zero-element tensors is a no-op", from both
        m = make(lib.nn)
    x = lib.ones(*shape, requires_grad=True)
    y = m(x)
    (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
    return y, x.grad, m.weight.grad, m.bias.grad if m.bias is not None else None


@pytest.mark.parametrize('i', range(len(EMPTY_CONV)))
def test_empty_conv_like_torch(i):
    """Shapes, grad_fn names, zero gradients (the bias's too) or PyTorch's error, for empty convolutions."""
    make, shape = EMPTY_CONV[i]
    try:
        want = _empty_conv(torch, make, shape)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            _empty_conv(ember, make, shape)
        assert str(got.value) == str(e)
        return
    got = _empty_conv(ember, make, shape)
    assert type(got[0].grad_fn).__name__ == type(want[0].grad_fn).__name__
    for g, t in zip(got, want):
        assert (g is None) == (t is None)
        if t is not None:
            assert_same(g, t, atol=1e-6)


def test_empty_conv_functional_groups():
    """conv2d of a 0-channel input with groups: weight rows >= groups is all PyTorch asks."""
    for lib in (torch, ember):
        y = lib.nn.functional.conv2d(lib.ones(2, 0, 5, 5), lib.ones(4, 0, 3, 3), lib.ones(4), groups=4)
        assert tuple(y.shape) == (2, 0, 3, 3)
    with pytest.raises(RuntimeError, match=r'expected weight to be at least 4 at dimension 0'):
        ember.nn.functional.conv2d(ember.ones(2, 0, 5, 5), ember.ones(3, 0, 3, 3), groups=4)


@pytest.mark.parametrize('shape', [(2, 0, 5, 5), (0, 5, 5), (2, 3, 0, 5), (2, 0, 5), (1, 0, 3, 3, 3)])
@pytest.mark.parametrize('mode', ['reflect', 'replicate', 'circular'])
def test_pad_empty_dims_like_torch(shape, mode):
    p = (1, 1) * {4: 2, 5: 3}.get(len(shape), 2 if shape == (0, 5, 5) else 1)
    try:
        want = torch.nn.functional.pad(torch.ones(shape), p, mode=mode)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            ember.nn.functional.pad(ember.ones(shape), p, mode=mode)
        assert str(got.value) == str(e)
    else:
        assert tuple(ember.nn.functional.pad(ember.ones(shape), p, mode=mode).shape) == tuple(want.shape)


def test_conv_backward_frees_kept_columns_before_input_gradient_columns():
    """The im2col columns a conv keeps for its weight gradient are freed before the input gradient's
    columns of the same size are made, so backward's peak holds one such matrix, not two (LeNet batch 64's
    peak memory); gradients still equal PyTorch's."""
    import tracemalloc
    xs, ws = rnd(16, 6, 14, 14), rnd(16, 6, 5, 5, seed=1)
    x, w = ember.tensor(xs, requires_grad=True), ember.tensor(ws, requires_grad=True)
    F(ember).conv2d(x, w).sum().backward()        # first-call set-up (BLAS bindings) out of the count
    x.grad = w.grad = None
    cols_bytes = 6 * 25 * 10 * 10 * 16 * 4        # (C*KH*KW, OH*OW*N) float32
    tracemalloc.start()     # before the forward: a block allocated untraced is not subtracted when freed
    try:
        y = F(ember).conv2d(x, w)
        g = ember.ones_like(y)
        before = tracemalloc.get_traced_memory()[0]
        y.backward(g)
        rise = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert rise < cols_bytes * 3 // 4, rise     # held both: 1.3 MB; now 0.36
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw).backward(torch.ones(16, 16, 10, 10))
    assert_same(x.grad, tx.grad, atol=1e-4)
    assert_same(w.grad, tw.grad, atol=1e-3)


def test_conv_products_over_one_channel():
    """A conv to one channel (its input gradient) and a transposed conv from one channel (its forward) take the
    outer product for their one-term products: PyTorch's values, float64 gradcheck, and BLAS's rounding."""
    check(lambda L, x, w: F(L).conv2d(x, w, stride=2, padding=1), (2, 3, 8, 8), (1, 3, 4, 4))
    check(lambda L, x, w: F(L).conv_transpose2d(x, w, stride=2, padding=1), (2, 1, 4, 4), (1, 3, 4, 4))
    from ember.nn.functional import _conv
    rng = np.random.default_rng(4)
    for dt in (np.float32, np.float64):
        a, b = rng.standard_normal((2, 64)).astype(dt), rng.standard_normal((2, 32)).astype(dt)
        np.testing.assert_array_equal(_conv._gemm(a[:1], b[:1], 1, ta=True), a[:1].T @ b[:1])


def test_conv_per_sample_rgb_kernels():
    """RGB 3x3 (ResNet's first conv) and 4x4 stride-2 (DCGAN's) convs take the per-sample path: PyTorch's values
    and gradients, and float64 gradcheck."""
    from ember.nn.functional import _conv
    y = F(ember).conv2d(ember.zeros(2, 3, 8, 8), ember.zeros(4, 3, 4, 4, requires_grad=True), stride=2, padding=1)
    assert isinstance(y.grad_fn.cols, _conv._Samples)
    check(lambda L, x, w: F(L).conv2d(x, w, stride=2, padding=1), (3, 3, 8, 8), (4, 3, 4, 4), atol=1e-4)
    check(lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), (2, 3, 6, 5), (5, 3, 3, 3), (5,), atol=1e-4)


@pytest.mark.parametrize('xs,ws,bias,kw', [c for c in CONVT2D if 'groups' not in c[3]], ids=str)
def test_conv_transpose2d_batch_last(monkeypatch, xs, ws, bias, kw):
    """With the per-sample path off, the few-output-tap transposed convs of CONVT2D take the batch-last
    im2col/col2im path instead: PyTorch's values and gradients, float64 gradcheck."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_SAMPLE_TAPS', 0)
    y = F(ember).conv_transpose2d(ember.zeros(*((1,) + xs)[-4:]), ember.zeros(*ws, requires_grad=True), **kw)
    assert not isinstance(y.grad_fn.cols, _conv._Samples)
    shapes = [xs, ws] + ([(ws[1],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv_transpose2d(x, w, *b, **kw), *shapes, atol=1e-4)


SAMPLE_CONVT = [  # transposed convs with at most 48 output taps: one GEMM per sample, then col2im (stride 2 by planes)
    ((3, 8, 6, 5), (8, 3, 4, 4), True, dict(stride=2, padding=1)),     # DCGAN's last layer, small
    ((2, 5, 5, 4), (5, 2, 4, 4), False, dict(stride=2, padding=1, output_padding=1)),
    ((2, 5, 4, 6), (5, 2, 3, 3), True, dict(stride=2, padding=(0, 1), output_padding=(1, 0), dilation=(1, 2))),
    ((2, 5, 4, 3), (5, 3, 3, 3), False, dict(stride=2, padding=2)),    # a padding past the first taps' reach
    ((2, 5, 4, 3), (5, 3, 3, 3), True, dict(stride=3, padding=2, output_padding=2)),
    ((2, 5, 4, 3), (5, 1, 1, 1), False, dict(stride=2)),                # one tap: two parity planes stay zero
    ((1, 6, 3, 3), (6, 2, 2, 2), True, dict(stride=2, dilation=2)),     # even dilation: only even rows
]


@pytest.mark.parametrize('xs,ws,bias,kw', SAMPLE_CONVT, ids=str)
def test_conv_transpose2d_per_sample(xs, ws, bias, kw):
    """Transposed convs with few output taps (DCGAN's 32 -> 3 channel 4x4 stride-2 last layer) run per sample as
    the input gradient of the conv with their weight, and backward as that conv (the input gradient) and its
    weight gradient: PyTorch's values and gradients, also with an input that needs none, and float64 gradcheck."""
    from ember.nn.functional import _conv
    y = F(ember).conv_transpose2d(ember.zeros(*xs), ember.zeros(*ws, requires_grad=True), **kw)
    assert isinstance(y.grad_fn.cols, _conv._Samples)
    shapes = [xs, ws] + ([(ws[1],)] if bias else [])
    check(lambda L, x, w, *b: F(L).conv_transpose2d(x, w, *b, **kw), *shapes, atol=1e-4)
    x, w = rnd(*xs, seed=3), rnd(*ws, seed=4)
    out = []
    for lib in (ember, torch):
        wt = lib.tensor(w, requires_grad=True)
        y = F(lib).conv_transpose2d(lib.tensor(x), wt, **kw)
        y.backward(lib.tensor(rnd(*y.shape, seed=5)))
        out.append((y.detach(), wt.grad))
    assert_same(out[0], out[1], atol=1e-4)


@pytest.mark.parametrize('xs,ws,kw', [((3, 3, 6, 5), (2, 3, 4, 4), dict(stride=2, padding=1)),
                                      ((2, 3, 9, 8), (4, 3, 3, 3), dict(stride=2, padding=(2, 0))),
                                      ((2, 2, 11, 9), (3, 2, 3, 3), dict(stride=2, dilation=(3, 2))),
                                      ((2, 2, 8, 8), (3, 2, 4, 4), dict(stride=2, padding=3))], ids=str)
def test_conv_per_sample_stride2_input_gradient(xs, ws, kw):
    """The per-sample conv's stride-2 input gradient (col2im by row and column parity planes, the GEMM's rows
    padded to the planes' width): PyTorch's gradients and float64 gradcheck, odd sizes, dilations, paddings
    past the kernel's reach."""
    from ember.nn.functional import _conv
    assert _conv._per_sample(rnd(*ws), 1)
    check(lambda L, x, w: F(L).conv2d(x, w, **kw), xs, ws, atol=1e-4)


DENSE = [  # (op, x shape, w shape, bias, kwargs): a kernel the size of the input, or a transposed conv of 1x1
    ('conv2d', (4, 8, 4, 4), (1, 8, 4, 4), False, {}),                  # DCGAN's last conv, small
    ('conv2d', (3, 5, 3, 2), (4, 5, 3, 2), True, dict(stride=2)),
    ('conv1d', (3, 4, 5), (2, 4, 5), True, {}),
    ('conv_transpose2d', (4, 10, 1, 1), (10, 6, 4, 4), False, {}),      # DCGAN's first transposed conv, small
    ('conv_transpose2d', (3, 5, 1, 1), (5, 2, 3, 2), True, dict(stride=3)),
    ('conv_transpose1d', (3, 4, 1), (4, 2, 3), True, {}),
]
NOT_DENSE = [
    ('conv2d', (2, 3, 4, 4), (2, 3, 4, 4), dict(padding=1)),
    ('conv2d', (2, 3, 5, 5), (2, 3, 3, 3), dict(dilation=2)),
    ('conv2d', (2, 4, 4, 4), (2, 2, 4, 4), dict(groups=2)),
    ('conv_transpose2d', (2, 3, 1, 1), (3, 2, 4, 4), dict(padding=1)),
    ('conv_transpose2d', (2, 3, 1, 1), (3, 2, 4, 4), dict(stride=2, output_padding=1)),
    ('conv_transpose2d', (2, 3, 1, 1), (3, 2, 3, 3), dict(dilation=2)),
]


@pytest.mark.parametrize('op,xs,ws,bias,kw', DENSE, ids=str)
def test_dense_convs(op, xs, ws, bias, kw):
    """A conv whose kernel covers its whole unpadded input (DCGAN's 128x4x4 -> 1) and a transposed conv of a 1x1
    input (DCGAN's 100x1x1 -> 128x4x4) run as one product of the flattened samples: PyTorch's values and
    gradients, also with an input that needs none, float64 gradcheck, an empty batch; padded, dilated, grouped
    and output-padded ones do not."""
    from ember.nn.functional import _conv
    out_ch = ws[1] if 'transpose' in op else ws[0]
    y = getattr(F(ember), op)(ember.zeros(*xs), ember.zeros(*ws, requires_grad=True), **kw)
    assert y.grad_fn.cols is _conv._DENSE
    shapes = [xs, ws] + ([(out_ch,)] if bias else [])
    check(lambda L, x, w, *b: getattr(F(L), op)(x, w, *b, **kw), *shapes, atol=1e-4)
    x, w = rnd(*xs, seed=3), rnd(*ws, seed=4)
    for n in (xs[0], 0):
        out = []
        for lib in (ember, torch):
            wt = lib.tensor(w, requires_grad=True)
            y = getattr(F(lib), op)(lib.tensor(x[:n]), wt, **kw)
            y.backward(lib.tensor(rnd(*y.shape, seed=5)))
            out.append((y.detach(), wt.grad))
        assert_same(out[0], out[1], atol=1e-4)


@pytest.mark.parametrize('op,xs,ws,kw', NOT_DENSE, ids=str)
def test_convs_that_are_not_dense(op, xs, ws, kw):
    from ember.nn.functional import _conv
    y = getattr(F(ember), op)(ember.zeros(*xs), ember.zeros(*ws, requires_grad=True), **kw)
    assert y.grad_fn.cols is not _conv._DENSE
    check(lambda L, x, w: getattr(F(L), op)(x, w, **kw), xs, ws, atol=1e-4)


POOL_CALLS = [('max_pool1d', (2,), {}), ('max_pool1d', (2,), {'return_indices': True}), ('max_pool2d', (2,), {}),
              ('max_pool2d', (2,), {'return_indices': True}), ('max_pool3d', (2,), {}), ('avg_pool1d', (2,), {}),
              ('avg_pool2d', (2,), {}), ('avg_pool3d', (2,), {}), ('adaptive_avg_pool1d', (2,), {}),
              ('adaptive_max_pool1d', (2,), {}), ('adaptive_max_pool1d', (2,), {'return_indices': True})]


@pytest.mark.parametrize('op,args,kw', POOL_CALLS, ids=str)
@pytest.mark.parametrize('bad', [input, [[1.0, 2.0]], None], ids=['builtin', 'list', 'None'])
def test_pool_of_a_non_tensor_is_torchs_type_error(op, args, kw, bad):
    """A pool given something that is not a tensor (the nn.MaxUnpool2d docstring passes the builtin ``input``)
    raises PyTorch's TypeError naming the op and the argument, not an AttributeError from inside ember."""
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(TypeError) as info:
            getattr(F(lib), op)(bad, *args, **kw)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def _pad_cases():
    """Random shapes and non-negative amounts (different before / after, up to the limits each mode allows)."""
    rng, cases = np.random.default_rng(7), []
    for mode in ('reflect', 'replicate', 'circular'):
        for k in (1, 2, 3):
            for _ in range(8):
                shape = tuple(int(v) for v in rng.integers(1, 6, size=k + 2))
                pads = []
                for d in range(k):
                    n = shape[-1 - d]
                    top = {'reflect': n - 1, 'circular': n}.get(mode, 7)
                    pads += [int(rng.integers(0, top + 1)), int(rng.integers(0, top + 1))]
                cases.append((mode, shape, tuple(pads)))
    return cases


@pytest.mark.parametrize('mode,shape,pads', _pad_cases())
def test_border_pads_match_torch_values_gradients_and_corners(mode, shape, pads):
    """Reflect / replicate / circular pads (filled by slab copies, their backward by slab adds) against PyTorch:
    values bitwise, float64 gradients to rounding, grad_fn names."""
    rng = np.random.default_rng(zlib.crc32(repr((mode, shape, pads)).encode()))
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, pads, mode=mode)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ex = ember.tensor(x, requires_grad=True)
    ey = ember.nn.functional.pad(ex, pads, mode=mode)
    ey.backward(ember.tensor(g))
    assert np.array_equal(ey.detach().numpy(), ty.detach().numpy())
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert ey.grad_fn.name() == ty.grad_fn.name()


@pytest.mark.parametrize('shape,k,s,p,kw', [
    ((4, 16, 32, 32), 3, 2, 1, {}), ((4, 16, 32, 32), 2, 2, 0, {}), ((2, 24, 35, 35), 3, 1, 1, {}),
    ((4, 16, 14, 15), 5, 3, 2, dict(ceil_mode=True)), ((4, 16, 14, 14), 3, 2, 1, dict(count_include_pad=False)),
    ((4, 16, 14, 14), (2, 3), (1, 2), (1, 0), dict(divisor_override=5)), ((3, 20, 11), 3, 2, 1, {})])
def test_avg_pool2d_float32_forward_is_pytorchs_bitwise(shape, k, s, p, kw):
    """Window sums added tap by tap in row-major order, as PyTorch's CPU kernel adds them: the same float32 bits."""
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    want = torch.nn.functional.avg_pool2d(torch.tensor(x), k, s, p, **kw).numpy()
    got = ember.nn.functional.avg_pool2d(ember.tensor(x), k, s, p, **kw).numpy()
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize('xs,ws,kw', [
    ((2, 8, 12, 13), (3, 8, 9, 9), dict(padding=4)), ((2, 8, 12, 13), (3, 8, 3, 5), dict(padding=(1, 2))),
    ((2, 8, 12, 13), (4, 8, 3, 3), dict(padding=2, dilation=2)), ((2, 8, 12, 13), (4, 8, 3, 3), {}),
    ((1, 6, 9, 9), (2, 6, 3, 4), dict(padding='same')), ((2, 8, 12, 13), (3, 8, 5, 5), dict(padding=(0, 4))),
    ((3, 40, 40, 40), (3, 40, 9, 9), {})])     # the last in batch parts (columns past _CHUNK_FROM)
def test_conv_input_gradient_by_correlation_matches_torch(xs, ws, kw):
    """Stride-1 convs with fewer output than input channels: the input gradient as the correlation of the padded
    output gradient with the flipped kernel, against PyTorch's in float64 (and the weight gradient beside it)."""
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    res = []
    for L in (torch, ember):
        xt, wt = L.tensor(x, requires_grad=True), L.tensor(w, requires_grad=True)
        y = L.nn.functional.conv2d(xt, wt, **kw)
        y.backward(L.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
        res.append((xt.grad.numpy(), wt.grad.numpy()))
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('xs,ws,kw', [
    ((5, 16, 9, 10), (16, 2, 3, 3), dict(padding=1, groups=8)),
    ((5, 16, 9, 10), (8, 4, 3, 2), dict(padding=(1, 0), groups=4, dilation=(2, 1))),
    ((5, 16, 9, 9), (16, 4, 3, 3), dict(padding=1, groups=4, stride=2)),
    ((5, 8, 6, 7), (16, 2, 3, 3), dict(padding=1, groups=4)),
    ((5, 8, 30), (8, 2, 5), dict(padding=2, groups=4)),
], ids=str)
def test_grouped_conv_in_parts_matches_torch(monkeypatch, xs, ws, kw):
    """Grouped convs (ResNeXt's kind) run im2col in sample parts sized by all groups' columns
    (_conv._sample_column_bytes; lowered limits give one sample a part here), and at stride 1 with at most as many
    output as input channels their input gradient as the correlation of g with the flipped kernel per group
    (_conv._full_correlation): output and gradients as PyTorch's, float64 finite differences too."""
    from ember.nn.functional import _conv
    monkeypatch.setattr(_conv, '_CHUNK_FROM', 1)
    monkeypatch.setattr(_conv, '_CHUNK_BYTES', 1)
    rng = np.random.default_rng(len(xs) + ws[0])
    x0, w0, b0 = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[:1]))
    res = []
    for lib in (ember, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        fn = lib.nn.functional.conv2d if len(xs) == 4 else lib.nn.functional.conv1d
        y = fn(x, w, b, **kw)
        y.backward(lib.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(tuple(y.shape))))
        res.append([t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=2e-5)
    x, w = (ember.tensor(a.astype(np.float64), requires_grad=True) for a in (x0[:2], w0))
    fn = ember.nn.functional.conv2d if len(xs) == 4 else ember.nn.functional.conv1d
    assert ember.autograd.gradcheck(lambda x, w: fn(x, w, None, **kw), (x, w))


@pytest.mark.parametrize('xs,ws,kw', [
    ((2, 8, 5, 6, 7), (6, 8, 3, 3, 3), dict(padding=1)),
    ((1, 8, 6, 5, 8), (5, 8, 3, 2, 3), dict(padding=(1, 0, 2), dilation=(1, 2, 1))),
    ((2, 8, 5, 6, 7), (3, 8, 1, 3, 3), dict(padding=(0, 1, 1))),
    ((2, 8, 5, 6, 7), (3, 8, 2, 2, 2), dict(padding='same')),
    ((8, 5, 6, 7), (3, 8, 3, 3, 3), dict(padding=1)),
    ((2, 8, 5, 6, 7), (12, 8, 3, 3, 3), dict(padding=1)),
    ((2, 8, 5, 9, 7), (4, 8, 3, 3, 2), dict(padding=(1, 0, 1), stride=(1, 2, 3))),
    ((1, 8, 6, 5, 8), (5, 8, 3, 2, 3), dict(padding=3)),
], ids=str)
@pytest.mark.filterwarnings('ignore:Using padding')
def test_conv3d_by_depth_planes_matches_torch(xs, ws, kw):
    """Ungrouped conv3d at depth stride 1 with 8 or more input channels goes by depth planes (_conv3d._planes_forward:
    2-D columns of every padded depth plane, one GEMM per depth tap on a view of them; the input gradient the same conv
    of g with the flipped kernel, or with more output channels, spatial strides or pads past the reach each tap's W^T
    g added back, _planes_grad_input): output and the three gradients as PyTorch's in float32 and float64, float64
    finite differences."""
    from ember.nn.functional import _conv3d
    rng = np.random.default_rng(sum(xs))
    for dt, tol in ((np.float32, 2e-5), (np.float64, 1e-12)):
        x0, w0, b0 = (rng.standard_normal(s).astype(dt) for s in (xs, ws, ws[:1]))
        res = []
        for lib in (ember, torch):
            x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
            y = lib.nn.functional.conv3d(x, w, b, **kw)
            y.backward(lib.tensor(np.linspace(-1, 1, y.numel(), dtype=dt).reshape(tuple(y.shape))))
            res.append([t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)])
        for a, c in zip(*res):
            np.testing.assert_allclose(a, c, rtol=tol, atol=tol)
    assert _conv3d._planes_usable(w0, kw.get('stride', (1, 1, 1)), 1)
    small = ((1,) if len(xs) == 5 else ()) + (8, 4, 5, 4)   # finite differences on a smaller input and weight
    x, w = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in (small, (min(ws[0], 3),) + ws[1:]))
    assert ember.autograd.gradcheck(lambda x, w: ember.nn.functional.conv3d(x, w, None, **kw), (x, w))
