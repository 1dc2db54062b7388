"""Indexing, views, in-place ops and the autograd API: cases a differential fuzzer (ember against PyTorch) found
answering differently. Each case runs ``fn(lib)`` on both and compares what it returns (tensors by dtype, shape,
strides, values, requires_grad and grad_fn name; anything else by value) or that both raise the same exception
type with the same first line."""
import warnings

import numpy as np
import pytest
import torch

import ember

LIBS = (torch, ember)


def _norm(x, L):
    if isinstance(x, L.Tensor):
        v = x.detach()
        return ('T', str(x.dtype).split('.')[-1], tuple(x.shape), x.stride(), x.requires_grad,
                type(x.grad_fn).__name__ if x.grad_fn is not None else None, v.numpy().tolist())
    if isinstance(x, (tuple, list)):
        return tuple(_norm(y, L) for y in x)
    return x


def _run(L, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return _norm(fn(L), L)
    except Exception as e:     # noqa: BLE001 -- the exception's type and first line are compared
        return ('raises', type(e).__name__, str(e).splitlines()[0])


def _view_nograd(L, leaf_base, op):
    """A view made under no_grad of a tensor that requires grad (a leaf or not), then changed in place."""
    x = L.ones(3, requires_grad=True)
    y = x if leaf_base else x * 2
    with L.no_grad():
        v = y.view(3)
    op(L, v)
    return y


def _mul_no_grad(L, v):
    with L.no_grad():
        v.mul_(2)


def _nograd_split(L):
    y = L.ones(3, requires_grad=True) * 2
    with L.no_grad():
        a = y.split(2)[0]
    a.mul_(2)


CASES = {
    # strides of a size-1 dim NumPy inserts with stride 0 (x[None], unsqueeze): PyTorch's unsqueeze gives the
    # next dim's extent
    'none_index_stride': lambda L: L.arange(4.)[None],
    'none_index_stride_mid': lambda L: L.arange(6.).reshape(2, 3)[None, :, None],
    'none_index_stride_t': lambda L: L.arange(6.).reshape(2, 3).t()[None],
    'unsqueeze_stride': lambda L: L.arange(6.).reshape(2, 3).unsqueeze(0),
    'ellipsis_none_stride': lambda L: L.arange(6.).reshape(2, 3)[..., None],
    # x[True] = v copies into x.unsqueeze(0) as x[None] does (casting), not an index_put_ (which refuses the dtype)
    'setitem_true_casts': lambda L: (lambda x: (x.__setitem__(True, L.ones(3, dtype=L.float64)), x)[1])(
        L.zeros(2, 3)),
    'setitem_true_tuple_refuses': lambda L: (lambda x: (x.__setitem__((True,), L.ones(3, dtype=L.float64)), x)[1])(
        L.zeros(2, 3)),
    # a view made under no_grad of a tensor that requires grad is refused an in-place change under grad mode
    # (ember changed it untracked: the base's gradient then ignored the change)
    'nograd_view_inplace': lambda L: _view_nograd(L, False, lambda L, v: v.mul_(2)),
    'nograd_view_of_leaf_inplace': lambda L: _view_nograd(L, True, lambda L, v: v.mul_(2)),
    'nograd_view_setitem': lambda L: _view_nograd(L, False, lambda L, v: v.__setitem__(slice(None), 5.)),
    'nograd_split_inplace': lambda L: _nograd_split(L),
    # (changed under no_grad too, the change is allowed and untracked)
    'nograd_view_inplace_under_no_grad': lambda L: _view_nograd(L, False, _mul_no_grad),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_matches_torch(name):
    fn = CASES[name]
    assert _run(ember, fn) == _run(torch, fn)
