"""NumPy RuntimeWarnings ember's computation emitted where PyTorch prints nothing (a differential fuzzer over
ember's ops on inf, -inf, NaN, +-0, huge and tiny values in every float dtype): each case runs
``fn(lib, x)`` on a leaf ``x`` of those values under warnings-as-errors in both libraries, with a backward
through the output's sum, and compares the outputs and gradients."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same

INF = float('inf')
# inf, -inf, NaN, 0, -0, a value near float16's top, a tiny one, 1
VALS = [INF, -INF, float('nan'), 0.0, -0.0, 6e4, 1e-7, 1.0]
DTYPES = ('float16', 'bfloat16', 'float32', 'float64')


def _issue_example(L, x):
    """The report's case: inf and -inf summed over two dims (NumPy warned 'invalid value in reduce')."""
    y = L.full((4, 3, 5), 1., dtype=x.dtype)
    y[0, 0, 0] = INF
    y[1, 0, 0] = -INF
    return y.sum((0, 2)) + x.sum() * 0


def _inplace(name, sign):
    """``x``'s copy updated in place by ``name`` (add_, sub_) with ``sign * x`` (inf - inf: NaN) under no_grad, as an
    optimizer's step: the fast path."""
    def fn(L, x):
        with L.no_grad():
            return getattr(x.detach().clone(), name)(x.detach() * sign)
    return fn


CASES = {
    'sum_dims_inf': _issue_example,
    'sum': lambda L, x: x.sum(),
    'mean': lambda L, x: x.reshape(2, 4).mean(1),
    'prod': lambda L, x: x.reshape(2, 4).prod(1),
    'var': lambda L, x: x.reshape(2, 4).var(1),
    'std_mean': lambda L, x: L.std_mean(x.reshape(2, 4), 1)[0],
    'norm': lambda L, x: x.reshape(2, 4).norm(dim=1),
    'cumsum': lambda L, x: x.cumsum(0),
    'cumprod': lambda L, x: x.cumprod(0),
    'softmax': lambda L, x: x.softmax(0),
    'log_softmax': lambda L, x: L.log_softmax(x, 0),
    'logsumexp': lambda L, x: x.logsumexp(0),
    'log': lambda L, x: x.log(),
    'exp': lambda L, x: (x * 100).exp(),
    'sqrt': lambda L, x: x.sqrt(),
    'reciprocal': lambda L, x: x.reciprocal(),
    'add': lambda L, x: x + x.flip(0),
    'sub': lambda L, x: x - x,
    'mul': lambda L, x: x * x.flip(0),
    'div': lambda L, x: x / x.flip(0),
    'lerp': lambda L, x: L.lerp(x, x.flip(0), 0.3),
    'addcmul': lambda L, x: L.addcmul(x, x, x.flip(0), value=0.5),
    'addcdiv': lambda L, x: L.addcdiv(x, x, x.flip(0), value=0.5),
    'to_float16': lambda L, x: x.double().mul(1e10).half(),
    'matmul': lambda L, x: x.reshape(2, 4) @ x.reshape(4, 2),
    'linear': lambda L, x: L.nn.functional.linear(x.reshape(2, 4), x.reshape(2, 4), x[:2]),
    'trace': lambda L, x: x.reshape(2, 4).trace(),
    'isclose': lambda L, x: L.isclose(x, x.flip(0)),
    'linalg_cross': lambda L, x: L.linalg.cross(x[:6].reshape(2, 3), x[2:].reshape(2, 3)),
    'det': lambda L, x: L.linalg.det(x[:4].reshape(2, 2).double()),
    'cross_entropy': lambda L, x: L.nn.functional.cross_entropy(x.reshape(2, 4), L.tensor([1, 3])),
    'layer_norm': lambda L, x: L.nn.functional.layer_norm(x.reshape(2, 4), (4,)),
    'group_norm': lambda L, x: L.nn.functional.group_norm(x.reshape(1, 4, 2), 2),
    'adaptive_avg_pool1d': lambda L, x: L.nn.functional.adaptive_avg_pool1d(x.reshape(1, 2, 4), 3),
    'vector_norm': lambda L, x: L.linalg.vector_norm(x),
    'allclose': lambda L, x: L.tensor(L.allclose(x, x.flip(0), rtol=10.0, atol=10.0)),
    'add_': _inplace('add_', -1),
    'sub_': _inplace('sub_', 1),
    # round 3: larger ops under one switch (_quiet.quietly), hot ones rerun (_quiet.rerun)
    'conv1d': lambda L, x: L.nn.functional.conv1d(x.reshape(1, 2, 4), x[:6].reshape(1, 2, 3), x[:1]),
    'conv2d': lambda L, x: L.nn.functional.conv2d(x.reshape(1, 2, 2, 2), x.reshape(2, 2, 2, 1)),
    'conv_transpose1d': lambda L, x: L.nn.functional.conv_transpose1d(x.reshape(1, 2, 4), x[:4].reshape(2, 1, 2)),
    'conv3d': lambda L, x: L.nn.functional.conv3d(x.reshape(1, 1, 2, 2, 2), x.reshape(1, 1, 2, 2, 2).flip(2)),
    'einsum': lambda L, x: L.einsum('ij,jk->ik', x.reshape(2, 4), x.reshape(4, 2)),
    'interpolate': lambda L, x: L.nn.functional.interpolate(x.reshape(1, 2, 2, 2), scale_factor=2, mode='bilinear'),
    'grid_sample': lambda L, x: L.nn.functional.grid_sample(x.reshape(1, 1, 2, 4), L.full((1, 2, 2, 2), 0.25,
                                                                 dtype=x.dtype), align_corners=False),
    'affine_grid': lambda L, x: L.nn.functional.affine_grid(x[:6].reshape(1, 2, 3), (1, 1, 2, 2),
                                                            align_corners=False),
    'scatter_add': lambda L, x: L.zeros(4, dtype=x.dtype).scatter_add(0, L.tensor([0, 1, 0, 1, 2, 3, 2, 3]), x),
    'index_add': lambda L, x: L.zeros(4, dtype=x.dtype).index_add(0, L.tensor([0, 1, 0, 1, 2, 3, 2, 3]), x),
    'index_reduce': lambda L, x: L.ones(4, dtype=x.dtype).index_reduce(0, L.tensor([0, 1, 0, 1, 2, 3, 2, 3]), x,
                                                                       'prod'),
    'put': lambda L, x: L.zeros(4, dtype=x.dtype).put(L.tensor([0, 1, 2, 3, 0, 1, 2, 3]), x, accumulate=True),
    'sdpa': lambda L, x: L.nn.functional.scaled_dot_product_attention(*[x.reshape(1, 2, 4)] * 3),
    'batch_norm': lambda L, x: L.nn.functional.batch_norm(x.reshape(4, 2), None, None, training=True),
    'instance_norm': lambda L, x: L.nn.functional.instance_norm(x.reshape(1, 2, 4)),
    'histc': lambda L, x: L.histc(x.detach().double().nan_to_num(0.0, 1e308, -1e308), bins=4),
    'avg_pool1d': lambda L, x: L.nn.functional.avg_pool1d(x.reshape(1, 2, 4), 2),
    'adaptive_avg_pool3d': lambda L, x: L.nn.functional.adaptive_avg_pool3d(x.reshape(1, 1, 2, 2, 2), 1),
    'cosine_similarity': lambda L, x: L.nn.functional.cosine_similarity(x.reshape(2, 4), x.reshape(2, 4).flip(1)),
    'embedding_bag': lambda L, x: L.nn.functional.embedding_bag(L.tensor([0, 1, 1, 0]), x.reshape(2, 4),
                                                                L.tensor([0, 2])),
    'mv': lambda L, x: L.mv(x.reshape(2, 4), x.flip(0)[:4]),
    'dot': lambda L, x: L.dot(x, x.flip(0)),
    'bmm': lambda L, x: L.bmm(x.reshape(1, 2, 4), x.reshape(1, 4, 2)),
    'addmm': lambda L, x: L.addmm(x[:4].reshape(2, 2), x.reshape(2, 4), x.reshape(4, 2)),
    'gelu': lambda L, x: L.nn.functional.gelu(x),
    'silu': lambda L, x: L.nn.functional.silu(x),
    'mish': lambda L, x: L.nn.functional.mish(x),
    'hardswish': lambda L, x: L.nn.functional.hardswish(x),
    'softplus': lambda L, x: L.nn.functional.softplus(x),
    'logsigmoid': lambda L, x: L.nn.functional.logsigmoid(x),
    'softshrink': lambda L, x: L.nn.functional.softshrink(x),
    'glu': lambda L, x: L.nn.functional.glu(x),
    'prelu': lambda L, x: L.nn.functional.prelu(x, x[:1]),
    'mse_loss': lambda L, x: L.nn.functional.mse_loss(x, x.flip(0)),
    'huber_loss': lambda L, x: L.nn.functional.huber_loss(x, x.flip(0)),
    'bce_with_logits': lambda L, x: L.nn.functional.binary_cross_entropy_with_logits(x, L.full_like(x, 0.5)),
    'soft_margin_loss': lambda L, x: L.nn.functional.soft_margin_loss(x, L.ones_like(x)),
    'cross_entropy_sum': lambda L, x: L.nn.functional.cross_entropy(x.reshape(2, 4) * -1e4, L.tensor([1, 3]),
                                                                    reduction='sum'),
    'dropout': lambda L, x: (L.manual_seed(0), L.nn.functional.dropout(x, 0.5))[1],
    'normal': lambda L, x: (L.manual_seed(0), L.normal(x, 1.0))[1],
    'tensor_huge': lambda L, x: L.tensor([1e40, -1e40, 0.1], dtype=x.dtype),
    'map_': lambda L, x: x.detach().clone().map_(x.detach(), lambda a, b: a * 1e10),
}



def _run(L, fn, dtype, mode='error'):
    """``fn(L, x)`` and x's gradient under the user's ``simplefilter('error')`` (mode 'error': a NumPy warning
    raises), or under the filters in force with every warning they let through recorded (mode 'default')."""
    x = L.tensor(VALS, dtype=getattr(L, dtype), requires_grad=True)
    with warnings.catch_warnings(record=True) as seen:
        if mode == 'error':
            warnings.simplefilter('error', RuntimeWarning)
        else:
            warnings.filterwarnings('always', append=True)
        out = fn(L, x)
        if out.requires_grad:
            out.float().sum().backward()
    leaked = [f'{w.filename}:{w.lineno}: {w.message}' for w in seen if issubclass(w.category, RuntimeWarning)]
    assert not leaked, leaked
    return out, x.grad


@pytest.mark.parametrize('mode', ('error', 'default'))
@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('name', list(CASES))
def test_no_numpy_warning(name, dtype, mode):
    t_out, t_grad = _run(torch, CASES[name], dtype, mode)     # PyTorch warns nothing here either
    e_out, e_grad = _run(ember, CASES[name], dtype, mode)
    assert str(e_out.dtype) == str(t_out.dtype)
    assert_same(e_out.detach().double(), t_out.detach().double(), atol=1e-3, rtol=1e-2, what=f'{name} {dtype}')
    assert (e_grad is None) == (t_grad is None)
    if t_grad is not None:
        assert_same(e_grad.double(), t_grad.double(), atol=1e-3, rtol=1e-2, what=f'{name} {dtype} grad')



def _users_log0():
    """The user's own NumPy: log(0) warns 'divide by zero'."""
    np.log(np.zeros(2))


def _users_function(L):
    """A custom Function whose backward runs the user's own NumPy and an ember op on inf."""
    class UsersLog(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            _users_log0()
            return g * L.tensor([INF, 0.0]) * 0
    return UsersLog


def _with_users_code(L, how, x):
    """An output of ``x`` whose backward pass calls the user's NumPy, ``how``: in a custom Function's backward, a
    tensor hook, a node's hook or pre-hook, a leaf's post-accumulate hook, a queued callback."""
    if how == 'function':
        return _users_function(L).apply(x)
    y = x * 2
    if how == 'tensor_hook':
        y.register_hook(lambda g: _users_log0())
    elif how == 'node_hook':
        y.grad_fn.register_hook(lambda gi, go: _users_log0())
    elif how == 'node_prehook':
        y.grad_fn.register_prehook(lambda go: _users_log0())
    elif how == 'post_accumulate':
        x.register_post_accumulate_grad_hook(lambda t: _users_log0())
    else:
        y.register_hook(lambda g: L.autograd.Variable._execution_engine.queue_callback(_users_log0)
                        if L is torch else L.autograd.engine.queue_callback(_users_log0))
    return y


@pytest.mark.parametrize('how', ('function', 'tensor_hook', 'node_hook', 'node_prehook', 'post_accumulate',
                                 'callback'))
@pytest.mark.parametrize('mode', ('default', 'error'))
def test_users_numpy_in_backward_still_warns(mode, how):
    """Only ember's own passes are quiet: the user's code that a backward pass calls warns (or raises) from its own
    NumPy as under PyTorch, and the engine's pass around it stays quiet (inf * 0 in its gradients)."""
    got = {}
    for L in (torch, ember):
        x = L.ones(2, requires_grad=True)
        y = _with_users_code(L, how, x)
        with warnings.catch_warnings(record=True) as seen:
            if mode == 'error':
                warnings.simplefilter('error', RuntimeWarning)
            else:   # the filters in force, every warning they let through recorded
                warnings.filterwarnings('always', append=True)
            try:
                (y * L.tensor([INF, 1.0])).sum().backward()
                got[L] = ('warned', sorted(str(w.message) for w in seen if w.category is RuntimeWarning))
            except RuntimeWarning as e:
                got[L] = ('raised', [str(e)])
    assert got[ember] == got[torch] == (('warned', ['divide by zero encountered in log']) if mode == 'default' else
                                        ('raised', ['divide by zero encountered in log'])), got


_SCRIPT = """
import sys
L = __import__(sys.argv[1])
F = L.nn.functional
inf, nan = float('inf'), float('nan')
for dt in (L.float16, L.bfloat16, L.float32, L.float64):
    x = L.tensor([[inf, -inf, nan, 0.], [6e4, 1e-7, 1., -0.]], dtype=dt).requires_grad_()
    outs = [x.sum(), x.mean(), x.var(1), x.softmax(1), x.log(), x.exp(), x.sqrt(), 1 / x, x - x, x * x,
            x @ x.t(), F.layer_norm(x, (4,)), F.cross_entropy(x, L.tensor([1, 3])), x.norm(dim=1), x.cumsum(1),
            x.logsumexp(1), F.gelu(x), L.tanh(x), x.prod(1)]
    sum(o.float().sum() for o in outs).backward()
    with L.no_grad():
        y = x.detach().clone()
        y.add_(y)
        y.sub_(y)
"""


def test_default_filters_print_nothing():
    """Under Python's default warning filters a representative set of ops, forward and backward, on inf/NaN/huge
    values prints nothing, as PyTorch prints nothing (a fresh process: each location warns once)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get('PYTHONPATH', ''))
    for lib in ('torch', 'ember'):
        r = subprocess.run([sys.executable, '-W', 'default', '-c', _SCRIPT, lib], capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout == r.stderr == '', f'{lib} printed:\n{r.stdout}{r.stderr}'
