"""einsum against PyTorch bit for bit: values, dtypes, grad_fn names and gradients of the forms attention and
tensor code use (contractions, outer products, traces, diagonals, ellipsis, own-label sums, size-1 broadcasting,
three and four operands), and the dtypes CPU autocast gives (its bmm runs in the autocast dtype, sums and
products keep theirs)."""
import numpy as np
import pytest
import torch

import ember

# (equation, operand shapes)
CASES = [
    ('bhqd,bhkd->bhqk', [(2, 3, 4, 8), (2, 3, 5, 8)]),
    ('bhqk,bhkd->bhqd', [(2, 3, 4, 5), (2, 3, 5, 8)]),
    ('bij,bjk->bik', [(3, 4, 5), (3, 5, 6)]),
    ('ij,jk->ik', [(4, 5), (5, 6)]),
    ('ik,kj->ji', [(3, 4), (4, 5)]),
    ('i,j->ij', [(5,), (7,)]),
    ('i,i->', [(6,)]*2),
    ('ij,ij->i', [(4, 5)]*2),
    ('ij,jk->k', [(4, 5), (5, 6)]),
    ('abc,cd->da', [(2, 3, 4), (4, 5)]),
    ('a...c,ca...->c', [(2, 2, 4), (4, 2, 2)]),
    ('...ij,...jk->...ik', [(2, 3, 4), (2, 4, 5)]),
    ('...ij->...ji', [(2, 3, 4)]),
    ('ii->', [(5, 5)]),
    ('ii->i', [(5, 5)]),
    ('bii->bi', [(3, 4, 4)]),
    ('ij->', [(4, 5)]),
    ('ij->j', [(4, 5)]),
    ('ij', [(4, 5)]),
    ('ij,jk,kl->il', [(3, 4), (4, 5), (5, 6)]),
    ('bn,anm,bm->ba', [(2, 3), (4, 3, 5), (2, 5)]),
    ('ab,bc,cd,de->ae', [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ('bij,bkj->bik', [(1, 4, 5), (3, 6, 5)]),
    ('ij,kj->ik', [(4, 1), (5, 3)]),
    ('iij,jk->ik', [(3, 3, 4), (4, 2)]),
]
DTYPES = ['float32', 'float64']


def _pair(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes]
    tt = [torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True) for x in xs]
    et = [ember.tensor(x, dtype=getattr(ember, dtype), requires_grad=True) for x in xs]
    return tt, et, rng


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('eq,shapes', CASES, ids=[c[0] for c in CASES])
def test_values_grads_grad_fn(eq, shapes, dtype):
    tt, et, rng = _pair(shapes, dtype, len(eq))
    tr, er = torch.einsum(eq, *tt), ember.einsum(eq, *et)
    assert type(er.grad_fn).__name__ == type(tr.grad_fn).__name__
    assert str(er.dtype) == str(tr.dtype) and tuple(er.shape) == tuple(tr.shape)
    np.testing.assert_array_equal(er.detach().numpy(), tr.detach().numpy())
    g = rng.standard_normal(tuple(tr.shape))
    tr.backward(torch.tensor(g, dtype=tr.dtype))
    er.backward(ember.tensor(g, dtype=er.dtype))
    for a, b in zip(tt, et):
        np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())


@pytest.mark.parametrize('eq,shapes', CASES[:12], ids=[c[0] for c in CASES[:12]])
def test_no_grad_matches_grad_path(eq, shapes):
    """The no-grad plan and the differentiable path give the same bits."""
    tt, et, _ = _pair(shapes, 'float32', 7)
    with ember.no_grad():
        plain = ember.einsum(eq, *et)
    np.testing.assert_array_equal(plain.numpy(), ember.einsum(eq, *et).detach().numpy())
    np.testing.assert_array_equal(plain.numpy(), torch.einsum(eq, *tt).detach().numpy())


def test_one_operand_grad_needed():
    """Only one operand requires grad: its gradient still matches (the other is not kept for it)."""
    for req in ((True, False), (False, True)):
        rng = np.random.default_rng(1)
        xs = [rng.standard_normal((3, 4)), rng.standard_normal((4, 5))]
        tt = [torch.tensor(x, requires_grad=r) for x, r in zip(xs, req)]
        et = [ember.tensor(x, requires_grad=r) for x, r in zip(xs, req)]
        torch.einsum('ij,jk->ik', *tt).sum().backward()
        ember.einsum('ij,jk->ik', *et).sum().backward()
        for a, b in zip(tt, et):
            assert (a.grad is None) == (b.grad is None)
            if a.grad is not None:
                np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())


AUTOCAST = [
    ('bhqd,bhkd->bhqk', [(2, 3, 4, 8), (2, 3, 5, 8)]),
    ('ij,jk->k', [(4, 5), (5, 6)]),
    ('ij,jk,kl->il', [(3, 4), (4, 5), (5, 6)]),
    ('i,j->ij', [(5,), (7,)]),
    ('ii->', [(5, 5)]),
]


@pytest.mark.parametrize('eq,shapes', AUTOCAST, ids=[c[0] for c in AUTOCAST])
def test_autocast_bf16(eq, shapes):
    tt, et, rng = _pair(shapes, 'float32', 3)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        tr = torch.einsum(eq, *tt)
    with ember.autocast('cpu', dtype=ember.bfloat16):
        er = ember.einsum(eq, *et)
    assert str(er.dtype) == str(tr.dtype)
    np.testing.assert_array_equal(er.detach().float().numpy(), tr.detach().float().numpy())
    g = rng.standard_normal(tuple(tr.shape))
    tr.backward(torch.tensor(g, dtype=tr.dtype))
    er.backward(ember.tensor(g, dtype=er.dtype))
    for a, b in zip(tt, et):
        np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())


def test_autocast_mixed_bf16_float32():
    """A bfloat16 and a float32 operand under autocast: the bmm casts both (no dtype error)."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        tr = torch.einsum('ij,jk->ik', torch.tensor(x, dtype=torch.bfloat16), torch.tensor(y, dtype=torch.float32))
    with ember.autocast('cpu', dtype=ember.bfloat16):
        er = ember.einsum('ij,jk->ik', ember.tensor(x, dtype=ember.bfloat16), ember.tensor(y, dtype=ember.float32))
    assert str(er.dtype) == str(tr.dtype)
    np.testing.assert_array_equal(er.float().numpy(), tr.float().numpy())
