"""Binary ops remember an operand's C-contiguous layout on the tensor (pointwise._layout_pair): results after its
``_data`` is replaced (``.data =``, ``set_``, ``resize_``) or viewed non-contiguously follow PyTorch's layout and shape."""
import numpy as np
import torch

import ember


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((4, 4)).astype(np.float32) for _ in range(3)]


def _check(e, t):
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride()
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


def _both(fn):
    """Run ``fn`` on ember and on torch with the same arrays; compare every result."""
    arrs = _pair()
    outs = []
    for lib in (ember, torch):
        a = lib.tensor(arrs[0], requires_grad=True)
        b, c = lib.tensor(arrs[1]), lib.tensor(arrs[2])
        outs.append(fn(lib, a, b, c))
    for e, t in zip(*outs):
        _check(e, t)


def test_data_replaced_by_transpose():
    def fn(lib, a, b, c):
        x = a + b           # remembered as C-contiguous
        y = x * b
        x.data = c.t()      # now a transposed array of the same shape
        return y, x + b, b + x, (x + b).tanh()
    _both(fn)


def test_constant_replaced():
    def fn(lib, a, b, c):
        y = a * b           # b remembered
        b.data = c.t().contiguous().t()
        return y, a * b, b - a
    _both(fn)


def test_resize_and_set():
    def fn(lib, a, b, c):
        x = (a + b).detach()
        x + c
        x.resize_(2, 8)
        z = x * lib.ones(2, 8)
        w = b + c
        w.set_(c.t().contiguous().t())
        return z, w + b, b * w
    _both(fn)


def test_chain_gradient_with_views():
    def fn(lib, a, b, c):
        x = a
        for _ in range(4):
            x = (x + b).mul(b).tanh()
            x = x.t() + c
        x.sum().backward()
        return x, a.grad
    _both(fn)


def test_tensors_made_elsewhere():
    """A leaf's .grad and a sum (made without Tensor._make) as operands, then again after their layout is known."""
    def fn(lib, a, b, c):
        (a * b).sum().backward()
        g = a.grad
        s = (a * c).sum()
        return g + b, b * g, g.t() - c, s * s, s + s
    _both(fn)
