"""Fast paths taken only at realistic sizes (advanced-index backward by rows, topk by partition), each
compared with PyTorch at sizes that take them."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


@pytest.mark.parametrize('table,index,dtype', [((65, 128), (12, 64), np.float32), ((27, 200), (40, 3), np.float64),
                                               ((9000,), (5000,), np.float32), ((30, 8, 20), (50,), np.float32)])
def test_advanced_index_backward_by_rows_as_pytorch(table, index, dtype):
    """``C[X]`` with repeated (and negative) indices: the gradient equals PyTorch's, and bitwise np.add.at's
    (each row summed in index order; PyTorch's own order differs in the last bit on large tables)."""
    c = RNG.standard_normal(table).astype(dtype)
    x = RNG.integers(-table[0], table[0], index)
    g = RNG.standard_normal(index + table[1:]).astype(dtype)
    grads = []
    for lib in (ember, torch):
        ct = lib.tensor(c, requires_grad=True)
        y = ct[lib.tensor(x)]
        assert y.grad_fn.name() == 'IndexBackward0'
        y.backward(lib.tensor(g))
        grads.append(ct.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    seq = np.zeros(table, dtype)
    np.add.at(seq, x, g)
    np.testing.assert_array_equal(grads[0], seq)


@pytest.mark.parametrize('shape,dim', [((64, 256), -1), ((40, 3, 30), 0), ((700,), 0)])
def test_sort_and_topk_of_float32_by_packed_keys_as_pytorch(shape, dim):
    """Stable sort at sizes that take the packed-key path: ties (also -0.0 against 0.0), infinities, both
    directions; with NaN the general path is taken. topk on distinct values (PyTorch's topk orders ties its own way)."""
    a = np.round(RNG.standard_normal(shape), 1).astype(np.float32)
    a.flat[::7] = -0.0
    a.flat[::11] = np.inf
    a.flat[::13] = -np.inf
    for arr in (a, np.where(RNG.random(shape) < 0.05, np.nan, a).astype(np.float32)):
        e, t = ember.tensor(arr), torch.tensor(arr)
        for desc in (False, True):
            es, ts = e.sort(dim=dim, descending=desc, stable=True), t.sort(dim=dim, descending=desc, stable=True)
            np.testing.assert_array_equal(es.values.numpy(), ts.values.numpy())
            np.testing.assert_array_equal(es.indices.numpy(), ts.indices.numpy())
    distinct = RNG.permutation(np.prod(shape)).reshape(shape).astype(np.float32) - 100
    for desc in (False, True):
        es, ts = ember.tensor(distinct).topk(9, dim, largest=desc), torch.tensor(distinct).topk(9, dim, largest=desc)
        np.testing.assert_array_equal(es.values.numpy(), ts.values.numpy())
        np.testing.assert_array_equal(es.indices.numpy(), ts.indices.numpy())
