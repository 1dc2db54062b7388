"""CPU autocast (torch.autocast('cpu'), torch.amp/torch.cpu.amp spellings) against PyTorch: which ops run in the
lower-precision dtype or in float32, the values, the graph back to float32 parameters, nesting, the weight cache,
the dtype and device warnings, thread-locality and custom_fwd's cast_inputs."""
import threading

import numpy as np
import pytest
import torch

import ember
from _isa import pytorch_avx512
from helpers import assert_same

RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return RNG.uniform(-1, 1, shape).astype(dtype)


X, W, B, Y = arr(3, 4), arr(5, 4), arr(5), arr(3, 5)
A3, B3, IMG, K = arr(2, 3, 4), arr(2, 4, 3), arr(1, 2, 6, 6), arr(3, 2, 3, 3)
T = np.array([0, 4, 2])

# (name, fn(lib, tensors...), inputs): each is run under autocast in both libraries
OPS = [
    ('mm', lambda L, x, w: L.mm(x, w.t()), [X, W]),
    ('matmul_op', lambda L, x, w: x @ w.t(), [X, W]),
    ('matmul_method', lambda L, a, b: a.matmul(b), [A3, B3]),
    ('bmm', lambda L, a, b: L.bmm(a, b), [A3, B3]),
    ('baddbmm', lambda L, c, a, b: L.baddbmm(c, a, b), [arr(2, 3, 3), A3, B3]),
    ('addmm', lambda L, b, x, w: L.addmm(b, x, w.t()), [B, X, W]),
    ('linear', lambda L, x, w, b: L.nn.functional.linear(x, w, b), [X, W, B]),
    ('conv2d', lambda L, x, k: L.nn.functional.conv2d(x, k, padding=1), [IMG, K]),
    ('conv1d', lambda L, x, k: L.nn.functional.conv1d(x, k), [arr(1, 2, 7), arr(3, 2, 3)]),
    ('conv_transpose2d', lambda L, x, k: L.nn.functional.conv_transpose2d(x, k), [arr(1, 3, 4, 4), K]),
    ('prelu', lambda L, x, w: L.nn.functional.prelu(x, w), [X, np.array([0.25], np.float32)]),
    ('sdpa', lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v), [A3, A3, A3]),
    ('relu_after_mm', lambda L, x, w: L.relu(L.mm(x, w.t())), [X, W]),
    ('softmax_after_mm', lambda L, x, w: L.softmax(L.mm(x, w.t()), -1), [X, W]),
    ('sum_after_mm', lambda L, x, w: L.mm(x, w.t()).sum(), [X, W]),
    ('add_mixed', lambda L, x, w: L.mm(x, w.t()) + 1.5, [X, W]),
    ('mse_loss', lambda L, x, w, y: L.nn.functional.mse_loss(L.mm(x, w.t()), y), [X, W, Y]),
    ('l1_loss', lambda L, x, w, y: L.nn.functional.l1_loss(L.mm(x, w.t()), y), [X, W, Y]),
    ('smooth_l1_loss', lambda L, x, w, y: L.nn.functional.smooth_l1_loss(L.mm(x, w.t()), y), [X, W, Y]),
    ('huber_loss', lambda L, x, w, y: L.nn.functional.huber_loss(L.mm(x, w.t()), y), [X, W, Y]),
    ('cross_entropy', lambda L, x, w, t: L.nn.functional.cross_entropy(L.mm(x, w.t()), t), [X, W, T]),
    ('nll_loss', lambda L, x, w, t: L.nn.functional.nll_loss(L.log_softmax(L.mm(x, w.t()), -1), t), [X, W, T]),
    ('bce_with_logits', lambda L, x, w, y: L.nn.functional.binary_cross_entropy_with_logits(L.mm(x, w.t()), y.abs()),
     [X, W, Y]),
    ('bce', lambda L, x, w, y: L.nn.functional.binary_cross_entropy(L.sigmoid(L.mm(x, w.t())), y.abs()), [X, W, Y]),
    ('kl_div', lambda L, x, w, y: L.nn.functional.kl_div(L.mm(x, w.t()), y.abs(), reduction='batchmean'), [X, W, Y]),
    ('prod', lambda L, x, w: L.prod(L.mm(x, w.t()), 1), [X, W]),
    ('cdist', lambda L, x, w: L.cdist(L.mm(x, w.t()), L.mm(x, w.t())), [X, W]),
    ('linalg_inv', lambda L, a: L.linalg.inv(L.mm(a, a.t()) + L.eye(3)), [arr(3, 3)]),
    ('float64_untouched', lambda L, x, w: L.mm(x, w.t()), [X.astype(np.float64), W.astype(np.float64)]),
    ('int_untouched', lambda L, x: L.mm(x, x.t()), [np.arange(6).reshape(2, 3)]),
    ('lstm', lambda L, x: L.nn.LSTM(4, 3, batch_first=True)(x)[0], [A3]),
    ('lstm_state', lambda L, x: L.nn.LSTM(4, 3, num_layers=2, bidirectional=True)(x)[1][1], [A3]),
    ('gru', lambda L, x: L.nn.GRU(4, 3)(x)[0], [A3]),
    ('rnn', lambda L, x: L.nn.RNN(4, 3)(x)[0], [A3]),
    ('lstm_cell', lambda L, x: L.nn.LSTMCell(4, 3)(x[0])[0], [A3]),
    ('multihead_attention', lambda L, x: L.nn.MultiheadAttention(4, 2)(x, x, x)[0], [A3]),
    ('conv2d_module', lambda L, x: L.nn.Conv2d(2, 3, 3)(x), [IMG]),
    ('batchnorm_after_linear', lambda L, x: L.nn.BatchNorm1d(5)(L.nn.Linear(4, 5)(x)), [X]),
    ('layernorm_after_linear', lambda L, x: L.nn.LayerNorm(5)(L.nn.Linear(4, 5)(x)), [X]),
    ('embedding', lambda L, t: L.nn.Embedding(5, 3)(t), [T]),
]


def _run(lib, fn, inputs, dtype=None, grad=True):
    lib.manual_seed(0)
    ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in inputs]
    with lib.autocast('cpu', dtype=dtype) if dtype else lib.autocast('cpu'):
        out = fn(lib, *ts)
    return out, ts


def _run_torch(fn, inputs):
    """(out, inputs, autocast's result?) of PyTorch under autocast; where its oneDNN LSTM refuses bfloat16 (AVX2 CPUs:
    "could not create a primitive descriptor"), its float32 result instead."""
    try:
        return (*_run(torch, fn, inputs), True)
    except RuntimeError as ex:
        if pytorch_avx512() or 'primitive descriptor' not in str(ex):
            raise
    torch.manual_seed(0)
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == 'f') for a in inputs]
    return fn(torch, *ts), ts, False


@pytest.mark.parametrize('name,fn,inputs', OPS, ids=[o[0] for o in OPS])
def test_op_dtype_value_and_gradient_as_pytorch(name, fn, inputs):
    e, et = _run(ember, fn, inputs)
    t, tt, cast = _run_torch(fn, inputs)
    assert str(e.dtype) == (str(t.dtype) if cast else 'torch.bfloat16')
    assert_same(e.float(), t.float(), atol=2e-2, rtol=2e-2)
    if t.requires_grad:
        assert e.grad_fn.name() == t.grad_fn.name() or not cast
        seed = RNG.uniform(-1, 1, tuple(t.shape)).astype(np.float32)
        e.backward(ember.tensor(seed).to(e.dtype))
        t.backward(torch.tensor(seed).to(t.dtype))
        for a, b in zip(et, tt):
            if b.grad is not None:
                assert str(a.grad.dtype) == str(b.grad.dtype)
                assert_same(a.grad, b.grad, atol=5e-2, rtol=5e-2)


def test_float16_on_cpu():
    for name in ('linear', 'conv2d', 'cross_entropy'):
        _, fn, inputs = next(o for o in OPS if o[0] == name)
        e, _ = _run(ember, fn, inputs, ember.float16)
        t, _ = _run(torch, fn, inputs, torch.float16)
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), atol=5e-3, rtol=5e-3)


def test_graph_back_to_float32_parameters():
    """A linear layer's graph under autocast: AddmmBackward0 over ToCopyBackward0 casts of the float32 leaves."""
    shapes = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        lin = lib.nn.Linear(4, 5)
        with lib.autocast(device_type='cpu', dtype=lib.bfloat16):
            y = lin(lib.tensor(X))
            loss = lib.nn.functional.cross_entropy(y, lib.tensor(T))
        names = [(f.name() if f is not None else None) for f, _ in y.grad_fn.next_functions]
        names.append(y.grad_fn.next_functions[2][0].next_functions[0][0].name())
        loss.backward()
        shapes.append((names, str(y.dtype), str(loss.dtype), str(lin.weight.grad.dtype), lin.weight.grad.numpy()))
    assert shapes[0][:4] == shapes[1][:4]
    np.testing.assert_allclose(shapes[0][4], shapes[1][4], atol=1e-2, rtol=1e-2)


def test_float32_parameters_get_bf16_rounded_gradients():
    """The gradient reaching a float32 parameter through its bf16 copy is a bf16 value widened (PyTorch rounds
    each gradient to its tensor's dtype): the same bits as PyTorch's, for a linear and a conv layer."""
    grads = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        lin, conv = lib.nn.Linear(4, 5), lib.nn.Conv2d(2, 3, 3)
        with lib.autocast(device_type='cpu', dtype=lib.bfloat16):
            y, z = lin(lib.tensor(X)), conv(lib.tensor(IMG))
        (y.float() * lib.tensor(Y)).sum().backward()
        (z.float() * lib.tensor(IMG[:, :1, :4, :4]).repeat(1, 3, 1, 1)).sum().backward()
        grads.append([p.grad.numpy() for p in (lin.weight, lin.bias, conv.weight, conv.bias)])
    for mine, theirs in zip(*grads):
        np.testing.assert_array_equal(mine, theirs)


def test_weight_cache_within_a_region():
    """A float32 leaf that requires grad is cast once per region (one ToCopyBackward0 for both uses), and
    each region starts afresh; cache_enabled=False casts at every use."""
    for lib in (ember, torch):
        w = lib.tensor(W.T.copy(), requires_grad=True)
        x = lib.tensor(X)
        with lib.autocast('cpu'):
            a, b = lib.mm(x, w), lib.mm(x, w)
            t1, t2 = lib.mm(x, w.t().t()), lib.mm(x, w.t().t())   # a view is cast at each use
        with lib.autocast('cpu'):
            c = lib.mm(x, w)
        with lib.autocast('cpu', cache_enabled=False):
            d, e = lib.mm(x, w), lib.mm(x, w)

        def cast(y):
            return y.grad_fn.next_functions[1][0]
        assert cast(a).name() == 'ToCopyBackward0'
        assert cast(a) is cast(b) and cast(a) is not cast(c) and cast(d) is not cast(e) and cast(t1) is not cast(t2)


def test_nesting_enabled_false_and_state_restored():
    for lib in (ember, torch):
        x, w = lib.tensor(X), lib.tensor(W)
        with lib.autocast('cpu'):
            assert lib.is_autocast_enabled('cpu') and not lib.is_autocast_enabled()
            with lib.autocast('cpu', enabled=False):
                assert lib.mm(x, w.t()).dtype == lib.float32
                assert not lib.is_autocast_enabled('cpu')
            with lib.autocast('cpu', dtype=lib.float16):
                assert lib.get_autocast_dtype('cpu') == lib.float16
                assert lib.mm(x, w.t()).dtype == lib.float16
            assert lib.get_autocast_dtype('cpu') == lib.bfloat16
            assert lib.mm(x, w.t()).dtype == lib.bfloat16
        with pytest.raises(ValueError):
            with lib.autocast('cpu'):
                raise ValueError
        assert not lib.is_autocast_enabled('cpu') and lib.mm(x, w.t()).dtype == lib.float32


def test_spellings_warnings_and_decorator():
    for lib in (ember, torch):
        x, w = lib.tensor(X), lib.tensor(W)
        with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
            ctx = lib.cpu.amp.autocast()
        with ctx:
            assert lib.mm(x, w.t()).dtype == lib.bfloat16
        with lib.amp.autocast('cpu'):
            assert lib.mm(x, w.t()).dtype == lib.bfloat16
        with pytest.warns(UserWarning, match='In CPU autocast, but the target dtype is not supported'):
            ctx = lib.autocast('cpu', dtype=lib.float32)
        with ctx:
            assert not lib.is_autocast_enabled('cpu')
        with pytest.warns(UserWarning, match='CUDA is not available'):
            ctx = lib.cuda.amp.autocast()
        with ctx:
            assert lib.mm(x, w.t()).dtype == lib.float32
        with pytest.raises(RuntimeError):
            lib.autocast('cpux')

        @lib.autocast('cpu')
        def f(a, b):
            return lib.mm(a, b.t())
        assert f(x, w).dtype == lib.bfloat16 and not lib.is_autocast_enabled('cpu')
        with pytest.raises(TypeError, match='requires a callable'):
            lib.autocast('cpu')(3)


def test_autocast_is_thread_local():
    for lib in (ember, torch):
        seen = []
        x, w = lib.tensor(X), lib.tensor(W)
        with lib.autocast('cpu'):
            th = threading.Thread(target=lambda: seen.append(lib.mm(x, w.t()).dtype))
            th.start()
            th.join()
        assert seen == [lib.float32]


def test_custom_fwd_cast_inputs():
    for lib in (ember, torch):
        class Square(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type='cpu', cast_inputs=lib.float32)
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return lib.mm(a, a.t())

            @staticmethod
            @lib.amp.custom_bwd(device_type='cpu')
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return (g + g.t()) @ a

        x = lib.tensor(X, requires_grad=True)
        with lib.autocast('cpu'):
            y = Square.apply(lib.mm(x, lib.tensor(W).t()))
        assert y.dtype == lib.float32
        y.sum().backward()
        assert x.grad.dtype == lib.float32
