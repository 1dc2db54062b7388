"""Names added for real programs (ember/ops/frontdoor.py, torch.mode, the out= refusals), beyond their registry
entries: mode's indices against PyTorch on rows of every length (its std::sort replay), empty_strided's layout
kept through writes, and the out= forms PyTorch refuses."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize('seed', range(6))
def test_mode_indices_and_gradients_equal_pytorch(seed):
    """Ties, NaN and rows longer than 16 (where std::sort is not stable): values, indices and gradients."""
    rng = np.random.default_rng(seed)
    n = [5, 16, 17, 40, 100, 300][seed]
    x = rng.integers(-3, 4, (4, n)).astype(np.float64)
    x[rng.random(x.shape) < 0.05 * (seed % 2)] = np.nan
    dim = seed % 2 - 1 if seed < 4 else 1
    out = []
    for lib in (ember, torch):
        t = lib.tensor(x.T.copy() if dim == 0 else x, requires_grad=True)
        r = lib.mode(t, dim, keepdim=seed % 3 == 0)
        r.values.backward(lib.ones_like(r.values))
        out.append((r.values.detach().numpy(), r.indices.numpy(), t.grad.numpy()))
    for e, t in zip(*out):
        np.testing.assert_array_equal(e, t)


def test_empty_strided_layout_survives_writes():
    for lib in (ember, torch):
        t = lib.empty_strided((2, 3), (1, 2))
        t.copy_(lib.arange(6.0).reshape(2, 3))
        assert t.stride() == (1, 2) and not t.is_contiguous()
        assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_out_forms_pytorch_refuses():
    for lib in (ember, torch):
        x = lib.tensor([[0.5, 0.0], [1.0, 0.2]])
        with pytest.raises(RuntimeError, match='nonzero does not support the out kwarg when as_tuple is True'):
            lib.nonzero(x, as_tuple=True, out=lib.empty(0, dtype=lib.long))
        with pytest.raises(TypeError, match=r'bernoulli\(\) received an invalid combination of arguments'):
            lib.bernoulli(x, 0.3, out=lib.empty(0))


def test_inplace_inverse_hyperbolics_have_no_derivative():
    """PyTorch records asinh_/acosh_/atanh_ as ...Backward1 and raises in their backward."""
    for lib in (ember, torch):
        for name, v in (('asinh_', 0.5), ('acosh_', 1.5), ('atanh_', 0.5)):
            y = getattr(lib.tensor([v, v], requires_grad=True) * 1, name)()
            assert y.grad_fn.name() == name[0].upper() + name[1:-1] + 'Backward1'
            with pytest.raises(RuntimeError, match=f"the derivative for 'inplace version of {name[:-1]}'"):
                y.sum().backward()
