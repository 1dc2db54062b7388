"""nn.functional / nn module argument combinations a differential fuzzer (ember against PyTorch: losses, pooling,
padding, interpolate, conv, norms, embedding, distances, activations) found answering differently: each case
runs ``fn(lib, *leaves)`` on both with the same float leaves and compares the outputs (dtype, shape, values), the
grad_fn name, every leaf's .grad after backward, or that both raise the same exception type and first line."""
import warnings

import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)
R = np.random.RandomState(0)


def _run(L, fn, arrays, dtypes):
    leaves = [L.tensor(a).to(getattr(L, d)).requires_grad_() for a, d in zip(arrays, dtypes)]
    try:
        out = fn(L, *leaves)
    except Exception as e:     # noqa: BLE001 -- the exception's type and first line are compared
        return ('raises', type(e).__name__, str(e).splitlines()[0])
    out.float().sum().backward()
    grads = [None if t.grad is None else (str(t.grad.dtype), t.grad.float().numpy()) for t in leaves]
    return (str(out.dtype), tuple(out.shape), type(out.grad_fn).__name__, out.detach().float().numpy(), grads)


CASES = {
    # pdist with p=0 counts nonzero differences: PyTorch's PdistBackward0 gives a zero gradient, not None
    'pdist_p0': (lambda L, x: L.nn.functional.pdist(x, p=0), [R.randn(4, 3)], ['float64']),
    'cdist_p0': (lambda L, x: L.cdist(x[None], x[None] + 1, p=0), [R.randn(4, 3)], ['float64']),
    # celu's alpha=0 is refused as PyTorch's RuntimeError, not a Python ZeroDivisionError
    'celu_alpha0': (lambda L, x: L.nn.functional.celu(x, 0.0), [R.randn(3)], ['float32']),
    'celu_alpha0_module': (lambda L, x: L.nn.CELU(0.0)(x), [R.randn(3)], ['float32']),
    # normalized_shape must be a sequence in the functional forms (the modules accept an int)
    'layer_norm_int_shape': (lambda L, x: L.nn.functional.layer_norm(x, 3), [R.randn(2, 3)], ['float32']),
    'layer_norm_int_shape_f64': (lambda L, x: L.layer_norm(x, 3), [R.randn(2, 3)], ['float64']),
    'rms_norm_int_shape': (lambda L, x: L.nn.functional.rms_norm(x, 3), [R.randn(2, 3)], ['float32']),
    'layer_norm_module_int': (lambda L, x: L.nn.LayerNorm(3)(x), [R.randn(2, 3)], ['float32']),
    # a float32/float64 input's norm parameters and running statistics must share its dtype
    'batch_norm_f64_stats_f32': (lambda L, x, m, v: L.nn.functional.batch_norm(x, m.detach().float(),
                                                                               v.detach().float() + 1),
                                 [R.randn(4, 3), R.randn(3), np.abs(R.randn(3))], ['float64'] * 3),
    'batch_norm_f32_weight_f64': (lambda L, x, w: L.nn.functional.batch_norm(x, None, None, w, training=True),
                                  [R.randn(4, 3), R.randn(3)], ['float32', 'float64']),
    'instance_norm_f64_weight_f32': (lambda L, x, w: L.nn.functional.instance_norm(x, weight=w.float()),
                                     [R.randn(2, 3, 5), R.randn(3)], ['float64', 'float64']),
    'group_norm_f32_weight_f64': (lambda L, x, w: L.nn.functional.group_norm(x, 3, w),
                                  [R.randn(2, 3, 5), R.randn(3)], ['float32', 'float64']),
    'layer_norm_f64_bias_f32': (lambda L, x, b: L.nn.functional.layer_norm(x, (5,), None, b.float()),
                                [R.randn(2, 5), R.randn(5)], ['float64', 'float64']),
    'layer_norm_f32_weight_f64_big': (lambda L, x, w: L.nn.functional.layer_norm(x, (4, 5), w),
                                      [R.randn(3, 4, 5), R.randn(4, 5)], ['float32', 'float64']),
    # rms_norm's result has the input's dtype (ToCopyBackward0 when the weight's promotes it); half and bfloat16
    # inputs are normalised in float32
    'rms_norm_f32_weight_f64': (lambda L, x, w: L.nn.functional.rms_norm(x, (5,), w),
                                [R.randn(4, 5), R.randn(5)], ['float32', 'float64']),
    'rms_norm_bf16': (lambda L, x, w: L.nn.functional.rms_norm(x, (7,), w),
                      [R.randn(6, 7), R.randn(7)], ['bfloat16', 'bfloat16']),
    'rms_norm_bf16_weight_f32': (lambda L, x, w: L.nn.functional.rms_norm(x, (7,), w),
                                 [R.randn(6, 7), R.randn(7)], ['bfloat16', 'float32']),
    # a bfloat16 operand's gradient from an op that promoted it to float32 is rounded to bfloat16
    'bf16_weight_times_f32': (lambda L, w, x: x * w, [R.randn(7), R.randn(6, 7)], ['bfloat16', 'float32']),
    'bf16_weight_div_f32': (lambda L, w, x: x / w, [R.rand(7) + 1, R.randn(3, 7)], ['bfloat16', 'float32']),
    # pixel_shuffle/unshuffle refuse a factor below 1 (-1 gave a wrong shape's error, 0 a ZeroDivisionError)
    'pixel_shuffle_0': (lambda L, x: L.nn.functional.pixel_shuffle(x, 0), [R.randn(1, 4, 2, 2)], ['float32']),
    'pixel_shuffle_neg': (lambda L, x: L.nn.functional.pixel_shuffle(x, -1), [R.randn(1, 4, 2, 2)], ['float32']),
    'pixel_unshuffle_neg': (lambda L, x: L.nn.functional.pixel_unshuffle(x, -2), [R.randn(1, 1, 4, 4)], ['float32']),
    'pixel_unshuffle_2d': (lambda L, x: L.nn.functional.pixel_unshuffle(x, 0), [R.randn(4, 4)], ['float32']),
    # conv_tbc (fairseq's time-batch-channel convolution) was missing from F and torch
    'conv_tbc': (lambda L, x, w, b: L.nn.functional.conv_tbc(x, w, b, 1),
                 [R.randn(5, 2, 3), R.randn(3, 3, 4), R.randn(4)], ['float64'] * 3),
    'conv_tbc_neg_pad': (lambda L, x, w, b: L.conv_tbc(x, w, b, pad=-1),
                         [R.randn(6, 2, 3), R.randn(2, 3, 4), R.randn(4)], ['float32'] * 3),
    'conv_tbc_bad_bias': (lambda L, x, w, b: L.conv_tbc(x, w, b[:3]),
                          [R.randn(5, 2, 3), R.randn(3, 3, 4), R.randn(4)], ['float32'] * 3),
    # class-index losses take a class weight of the input's dtype only (ember promoted silently)
    'cross_entropy_weight_f64': (lambda L, x, w: L.nn.functional.cross_entropy(x, L.tensor([0, 2, 1, 1]), w.detach()),
                                 [R.randn(4, 3), np.ones(3)], ['float32', 'float64']),
    'cross_entropy_probs_weight_f64': (lambda L, x, w: L.nn.functional.cross_entropy(x, x.detach().softmax(1),
                                                                                     w.detach()),
                                       [R.randn(4, 3), np.ones(3)], ['float32', 'float64']),
    'nll_loss_2d_weight_f32': (lambda L, x, w: L.nn.functional.nll_loss(x, L.zeros(2, 4, dtype=L.long), w.detach()),
                               [R.randn(2, 3, 4), np.ones(3)], ['float64', 'float32']),
    'multi_margin_weight_f64': (lambda L, x, w: L.nn.functional.multi_margin_loss(x, L.tensor([0, 2, 1, 1]),
                                                                                  weight=w.detach()),
                                [R.randn(4, 3), np.ones(3)], ['float32', 'float64']),
    # glu checks the halved dim's size before the dtype
    'glu_odd_int': (lambda L, x: L.nn.functional.glu(x.long()), [R.randn(2, 3)], ['float32']),
    'rms_norm_f16_no_weight': (lambda L, x: L.nn.functional.rms_norm(x, (7,)), [R.randn(6, 7)], ['float16']),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_matches_pytorch(name):
    fn, arrays, dtypes = CASES[name]
    t, e = (_run(L, fn, arrays, dtypes) for L in LIBS)
    if t[0] == 'raises' or e[0] == 'raises':
        assert e == t
        return
    assert e[:3] == t[:3]
    np.testing.assert_allclose(e[3], t[3], rtol=1e-6, atol=1e-6)
    assert [g is None for g in e[4]] == [g is None for g in t[4]]
    for ge, gt in zip(e[4], t[4]):
        if gt is not None:
            assert ge[0] == gt[0]
            np.testing.assert_allclose(ge[1], gt[1], rtol=1e-5, atol=1e-6)


WARNS = {
    'softmin_implicit_dim': lambda L, x: L.nn.functional.softmin(x),
    'softmin_module_implicit_dim': lambda L, x: L.nn.Softmin()(x[0]),
    'dropout3d_3d_input': lambda L, x: L.nn.functional.dropout3d(x, 0.0),
}


@pytest.mark.parametrize('name', sorted(WARNS))
def test_warnings_match_pytorch(name):
    """The warnings (category and text) and the result match PyTorch's."""
    res = []
    for L in LIBS:
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter('always')
            out = WARNS[name](L, L.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4) / 7))
        res.append(([(w.category.__name__, str(w.message)) for w in got], out.numpy()))
    assert res[1][0] == res[0][0] and res[0][0]
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6)
