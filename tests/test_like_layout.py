"""Tensors made like another (``*_like``, ``clone``) take PyTorch's layout: preserve_format keeps a transposed or
permuted input's strides (and infers dense ones from a strided input's order), so random ``*_like`` draws land
where PyTorch's do under the same seed, and ``.view`` refuses what PyTorch refuses."""
import numpy as np
import pytest
import torch

import ember

SOURCES = {
    'transposed': lambda L: L.zeros(4, 8).t(),
    'permuted 3-d': lambda L: L.zeros(2, 3, 5).permute(2, 0, 1),
    'nhwc view': lambda L: L.zeros(2, 3, 4, 5).permute(0, 2, 3, 1),
    'strided slice': lambda L: L.zeros(2, 3, 4).permute(2, 0, 1)[:, :, :2],
    'every other row': lambda L: L.zeros(5, 6)[::2],
    'expanded': lambda L: L.zeros(3, 4).expand(2, 3, 4),
    'size-1 dim': lambda L: L.zeros(3, 1, 4).permute(1, 2, 0),
    'contiguous': lambda L: L.zeros(3, 4),
}
MAKERS = {
    'randn_like': lambda L, x: L.randn_like(x),
    'rand_like': lambda L, x: L.rand_like(x),
    'randint_like': lambda L, x: L.randint_like(x, 0, 100),
    'randn_like float64': lambda L, x: L.randn_like(x, dtype=L.float64),
    'zeros_like': lambda L, x: L.zeros_like(x),
    'ones_like': lambda L, x: L.ones_like(x),
    'full_like': lambda L, x: L.full_like(x, 2.5),
    'empty_like contiguous': lambda L, x: L.zeros_like(x, memory_format=L.contiguous_format),
    'clone': lambda L, x: (x + 1).clone(),
    'clone contiguous': lambda L, x: x.clone(memory_format=L.contiguous_format),
}


def _made(L, source, maker):
    L.manual_seed(0)
    y = MAKERS[maker](L, SOURCES[source](L))
    strides = tuple(s for s, n in zip(y.stride(), y.shape) if n > 1)    # a size-1 dim's stride is arbitrary
    return strides, y.is_contiguous(), y.numpy().copy(), L.rand(2).numpy()


@pytest.mark.parametrize('maker', MAKERS)
@pytest.mark.parametrize('source', SOURCES)
def test_like_layout_and_values_match_pytorch(source, maker):
    e, t = _made(ember, source, maker), _made(torch, source, maker)
    assert e[:2] == t[:2]
    np.testing.assert_array_equal(e[2], t[2])
    np.testing.assert_array_equal(e[3], t[3])


@pytest.mark.parametrize('fmt', ['channels_last', 'contiguous_format', 'preserve_format'])
def test_like_memory_format_argument(fmt):
    res = []
    for L in (ember, torch):
        x = L.zeros(2, 3, 4, 5).permute(0, 2, 3, 1).permute(0, 3, 1, 2)
        L.manual_seed(0)
        made = [L.randn_like(x, memory_format=getattr(L, fmt)), L.empty_like(x, memory_format=getattr(L, fmt)),
                L.full_like(x, 1.0, memory_format=getattr(L, fmt))]
        res.append([(m.stride(), m.numpy().tolist() if i == 0 else None) for i, m in enumerate(made)])
    assert res[0] == res[1]


def test_clone_of_a_permuted_tensor_is_a_copy_that_refuses_view():
    """clone keeps the layout but never shares memory; PyTorch's view then fails on it as on the input."""
    for L in (ember, torch):
        x = L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
        c = x.clone()
        c[0, 0, 0] = -1.0
        assert x[0, 0, 0].item() == 0.0
        with pytest.raises(RuntimeError):
            c.view(-1)
