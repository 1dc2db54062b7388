"""torch.uint16, torch.uint32 and torch.uint64, PyTorch's "shell" dtypes: a differential generator over op x dtype.
Each case runs one expression on both libraries, for each of the three dtypes, and compares: the same values,
dtypes and reprs (exactly: uint64 values beyond float64's 53 bits included), or the same exception type and
first line of the message (the ops PyTorch has no kernel for refuse with NotImplementedError naming the kernel;
promotion with another integer or bool dtype is a RuntimeError)."""
import io
import pickle

import numpy as np
import pytest
import torch

import ember

DTYPES = ('uint16', 'uint32', 'uint64')
BIG = {'uint16': 65535, 'uint32': 2 ** 32 - 1, 'uint64': 2 ** 64 - 1}


def _same(e, t):
    """ember's value ``e`` is PyTorch's ``t``: tensors by dtype, shape, exact values and repr."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (e, t)
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), (e, t)
        if t.dtype == torch.bfloat16:
            e, t = e.float(), t.float()
        a, b = e.detach().numpy(), t.detach().numpy()
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'), (a, b)
        assert repr(e) == repr(t), (repr(e), repr(t))
    elif isinstance(t, (tuple, list)):
        assert type(e).__name__ == type(t).__name__ and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            _same(a, b)
    elif isinstance(t, torch.dtype):
        assert str(e) == str(t), (e, t)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype and np.array_equal(e, t), (e, t)
    else:
        assert type(e) is type(t) and e == t, (e, t)


def run(src, dt, **env):
    """Evaluate ``src`` with L the library, D the dtype, x = [1, 2, 3], b = [0, BIG, 7] and m = [[3, 1], [2, 5]]
    of that dtype; both libraries give the same result or raise the same exception with the same first line."""
    out = {}
    for L in (torch, ember):
        D = getattr(L, dt)
        scope = {'L': L, 'D': D, 'np': np, 'io': io, 'pickle': pickle, 'BIG': BIG[dt],
                 'x': L.tensor([1, 2, 3], dtype=D), 'b': L.tensor([0, BIG[dt], 7], dtype=D),
                 'm': L.tensor([[3, 1], [2, 5]], dtype=D), 'NP': np.dtype(dt), **env}
        try:
            out[L] = ('ok', eval(src, scope))   # noqa: S307 - src is one of this file's cases
        except Exception as ex:  # noqa: BLE001 - the exception itself is compared
            out[L] = ('err', ex)
    (tk, tv), (ek, ev) = out[torch], out[ember]
    assert tk == ek, (src, tv, ev)
    if tk == 'err':
        assert type(ev) is type(tv) or isinstance(ev, type(tv)), (src, tv, ev)
        assert str(ev).split('\n')[0] == str(tv).split('\n')[0], (src, str(tv), str(ev))
    else:
        _same(tv if False else ev, tv)


# -- names, factories, conversions, printing ----------------------------------------------------------------
BASICS = [
    'D', 'str(D)', '(D.is_signed, D.is_floating_point, D.is_complex, D.itemsize)', 'D.to_real()', 'D.to_complex()',
    'L.iinfo(D).bits', 'L.iinfo(D).min', 'L.iinfo(D).max', 'L.iinfo(D).dtype', 'pickle.loads(pickle.dumps(D)) is D',
    'x', 'b', 'm', 'L.tensor(5, dtype=D)', 'L.tensor([-1], dtype=D)', 'L.tensor([1.5, 2.9], dtype=D)',
    'L.tensor([True, False], dtype=D)', 'L.tensor([[1, 2], [3, 4]], dtype=D)', 'L.tensor([BIG + 1], dtype=D)',
    'L.tensor([], dtype=D)', 'L.tensor(np.array([1, BIG], NP))', 'L.tensor(np.array([1, BIG], NP), dtype=D)',
    'L.zeros(2, 3, dtype=D)', 'L.ones(2, dtype=D)', 'L.empty(2, 3, dtype=D).shape', 'L.empty(0, dtype=D)',
    'L.full((2,), 7, dtype=D)', 'L.full((2,), -1, dtype=D)', 'L.full((2,), 1.5, dtype=D)',
    'L.full((2,), BIG + 1, dtype=D)', 'L.zeros_like(x)', 'L.ones_like(x)', 'L.full_like(x, 4)',
    'L.empty_like(x).dtype', 'L.zeros_like(L.ones(2), dtype=D)', 'L.scalar_tensor(3, dtype=D)',
    'x.new_zeros(2)', 'x.new_ones(2)', 'x.new_full((2,), 5)', 'x.new_tensor([1, 2])', 'x.new_empty(2).dtype',
    'L.as_tensor([1, 2], dtype=D)', 'L.asarray([1, 2], dtype=D)', 'L.empty_strided((2,), (1,), dtype=D).dtype',
    'L.rand(3, dtype=D)', 'L.randn(3, dtype=D)', 'L.randint(0, 5, (3,), dtype=D).dtype',
    '(L.manual_seed(0), L.randint(0, 5, (6,), dtype=D))[1]', 'L.randint(-5, 5, (3,), dtype=D)',
    'L.randint(0, BIG + 2, (3,), dtype=D)', '(L.manual_seed(1), x.clone().random_(5))[1]',
    'L.rand_like(x)', 'L.randint_like(x, 5).dtype',
    'x.to(L.float32)', 'x.float()', 'x.double()', 'x.half()', 'x.bfloat16()', 'x.long()', 'x.int()', 'x.short()',
    'x.char()', 'x.byte()', 'x.bool()', 'x.to(L.complex64)', 'b.to(L.float64)', 'b.long()', 'b.int()', 'b.float()',
    'x.to(L.uint16)', 'x.to(L.uint32)', 'x.to(L.uint64)', 'L.tensor([1, -1, -2 ** 31]).to(D)',
    'L.tensor([True, False]).to(D)', 'L.tensor([1.7, 0.0, 3.2]).to(D)', 'L.tensor([1.7, 2.5], dtype=L.float64).to(D)',
    'L.tensor([7, 200], dtype=L.uint8).to(D)', 'L.tensor([-7, 100], dtype=L.int8).to(D)', 'x.type()',
    'x.type(L.float32)', "L.ones(2).type('torch.' + {'uint16': 'UInt16', 'uint32': 'UInt32', 'uint64': 'UInt64'}[str(D)[6:]] + 'Tensor')",
    'x.numpy()', 'b.numpy()', 'np.asarray(b)', 'L.from_numpy(np.array([1, BIG], NP))',
    'L.as_tensor(np.array([3, BIG], NP))', 'L.from_numpy(np.array([None]))', 'x.tolist()', 'b.tolist()',
    'b[1].item()', 'm.tolist()', 'float(b[1])', 'int(x[1])', 'bool(x[0])', 'x.element_size()', 'x.nbytes',
    'x.dim()', 'x.is_floating_point()', 'x.is_signed()', 'x.is_complex()', 'x.requires_grad',
    'x.requires_grad_()', 'L.tensor([1], dtype=D, requires_grad=True)', 'L.zeros(2, dtype=D, requires_grad=True)',
    'x.detach()', 'x.clone()', 'str(b)', 'str(m)', 'str(b[1])', 'repr(L.zeros(0, 2, dtype=D))',
    'repr(L.tensor([0, 1, 2000]).to(D))', 'repr(L.tensor(list(range(2000))).to(D))', 'repr(x.view(3, 1))',
    'L.promote_types(D, L.float32)', 'L.promote_types(D, L.float16)', 'L.promote_types(L.bfloat16, D)',
    'L.promote_types(D, L.float64)', 'L.promote_types(D, D)', 'L.promote_types(D, L.int64)',
    'L.promote_types(L.uint8, D)', 'L.promote_types(D, L.bool)', 'L.promote_types(D, L.int8)',
    'L.promote_types(D, L.complex64)', 'L.promote_types(L.complex128, D)', 'L.promote_types(L.uint16, L.uint32)',
    'L.promote_types(L.uint64, L.uint32)', 'L.result_type(x, 2)', 'L.result_type(x, 2.5)', 'L.result_type(x, True)',
    'L.result_type(x, L.tensor(1))', 'L.result_type(x, L.tensor([1]))', 'L.result_type(x, L.tensor([1.]))',
    'L.result_type(L.tensor(1, dtype=D), L.tensor([1]))',
    'L.can_cast(D, L.int64)', 'L.can_cast(L.int64, D)', 'L.can_cast(D, L.float32)', 'L.can_cast(L.float32, D)',
    'L.can_cast(D, L.bool)', 'L.can_cast(L.bool, D)',
    'x.view(3, 1)', 'x.reshape(1, 3)', 'x.view(3, 1).t()', 'x.view(3, 1).t().contiguous()', 'x[1]', 'x[1:]',
    'x[None]', 'm[:, 0]', 'm.T', 'x[L.tensor([0, 2])]', 'x[L.tensor([True, False, True])]',
    'L.arange(5)[x]', 'x.view(1, 3).expand(2, 3)', 'x.view(1, 3).expand(2, 3).contiguous()', 'x.view(1, 3).squeeze()',
    'x.unsqueeze(0)', 'm.permute(1, 0)', 'x.narrow(0, 1, 2)', 'x.unbind()', 'x.split(2)', 'x.chunk(2)',
    'm.flatten()', 'm.movedim(0, 1)', 'L.cat([x, x])', 'L.stack([x, x])', 'x.repeat(2)', 'm.diagonal()',
    'L.equal(x, x)', 'L.equal(x, b)',
]


def _save_load(L):
    """``L.save`` then ``L.load`` through a buffer."""
    def f(obj):
        buf = io.BytesIO()
        L.save(obj, buf)
        buf.seek(0)
        return L.load(buf)
    return f


@pytest.fixture(autouse=True)
def _libs(monkeypatch):
    for L in (torch, ember):
        monkeypatch.setattr(L, 'save_load', _save_load(L), raising=False)


@pytest.mark.parametrize('dt', DTYPES)
@pytest.mark.parametrize('src', BASICS)
def test_basics(src, dt):
    run(src, dt)
