"""Writes whose destination overlaps an input (or itself) follow PyTorch's rule: a partial overlap between
the written-to tensor and an input raises, full identity is allowed, a destination with a stride-0
dimension raises; disjoint or undecidable (non-dense) views compute. Checked against PyTorch."""
import pytest
import torch

import ember


def _setitem(v, idx, val):
    v[idx] = val
    return v


CASES = {  # name: f(lib) -> result; each runs on a fresh tensor
    'add_ shifted': lambda L: (lambda v: v[1:].add_(v[:-1]))(L.arange(5.)),
    'sub_ alpha shifted': lambda L: (lambda v: v[1:].sub_(v[:-1], alpha=2))(L.arange(5.)),
    'iadd shifted': lambda L: (lambda v: v[1:].__iadd__(v[:-1]))(L.arange(5.)),
    'add_ rows': lambda L: (lambda v: v[1:].add_(v[:-1]))(L.arange(12.).reshape(4, 3)),
    'mul_ transpose': lambda L: (lambda v: v.mul_(v.t()))(L.arange(4.).reshape(2, 2)),
    'addcmul_': lambda L: (lambda v: v[1:].addcmul_(v[:-1], v[:-1]))(L.arange(5.)),
    'clamp_ min=': lambda L: (lambda v: v[1:].clamp_(min=v[:-1]))(L.arange(5.)),
    'lerp_': lambda L: (lambda v: v[1:].lerp_(v[:-1], 0.5))(L.arange(5.)),
    'index_add_': lambda L: (lambda v: v[1:].index_add_(0, L.tensor([0, 1]), v[:2]))(L.arange(5.)),
    '0-d and 1-element': lambda L: (lambda v: v[1].add_(v[1:2]))(L.arange(5.)),
    'copy_ shifted': lambda L: (lambda v: v[1:].copy_(v[:-1]))(L.arange(5.)),
    'copy_ transpose': lambda L: (lambda v: v.copy_(v.t()))(L.arange(4.).reshape(2, 2)),
    'copy_ broadcast row': lambda L: (lambda v: v.copy_(v[0]))(L.arange(4.).reshape(2, 2)),
    'setitem slice': lambda L: (lambda v: _setitem(v, slice(1, None), v[:-1]))(L.arange(5.)),
    'setitem list': lambda L: (lambda v: _setitem(v, [1, 2], v[:2]))(L.arange(5.)),
    'expand add_': lambda L: L.zeros(3, 1).expand(3, 2).add_(1),
    'expand copy_': lambda L: L.zeros(3, 1).expand(3, 2).copy_(L.ones(3, 2)),
    # allowed: identity, disjoint, non-dense (PyTorch cannot decide) and copies
    'add_ self': lambda L: (lambda v: v.add_(v))(L.arange(5.)),
    'add_ same view': lambda L: (lambda v: v.add_(v.view(5)))(L.arange(5.)),
    'copy_ self': lambda L: (lambda v: v.copy_(v))(L.arange(5.)),
    'disjoint halves': lambda L: (lambda v: v[:2].add_(v[2:4]))(L.arange(5.)),
    'expanded input': lambda L: (lambda v: v.add_(v[:1].expand(3)))(L.arange(3.)),
    'flipped input': lambda L: (lambda v: v[1:].add_(v[:-1].flip(0)))(L.arange(5.)),
    'setitem same slice': lambda L: (lambda v: _setitem(v, slice(0, 2), v[:2]))(L.arange(5.)),
    'setitem column from column': lambda L: (lambda v: _setitem(v, (slice(None), 0), v[:, 1]))(
        L.arange(6.).reshape(2, 3)),
    'clamp_ min= tensor': lambda L: L.arange(4.).clamp_(min=L.ones(4)),
    'clamp min= tensor': lambda L: L.arange(4.).clamp(min=L.ones(4)),
    'mul_ scalar of a view': lambda L: L.arange(5.)[1:].mul_(2),
}


@pytest.mark.parametrize('name', list(CASES))
def test_overlap_like_torch(name):
    f = CASES[name]
    try:
        want = f(torch)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            f(ember)
        assert str(got.value) == str(e)
    else:
        assert f(ember).tolist() == want.tolist()


def test_overlap_error_leaves_tensor_unchanged():
    v = ember.arange(5.)
    with pytest.raises(RuntimeError, match='Please clone'):
        v[1:].add_(v[:-1])
    assert v.tolist() == [0., 1., 2., 3., 4.] and v._version == 0
