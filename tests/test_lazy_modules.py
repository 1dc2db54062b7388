"""Lazy modules (LazyLinear, LazyConv*d, LazyBatchNorm*d) against PyTorch: reprs and state dicts holding
UninitializedParameter/UninitializedBuffer before the first forward, the layer they become after it (seeded
initialisation included), loading a state dict before the forward, and the errors an uninitialized one gives."""
import numpy as np
import pytest
import torch

import ember


def _story(lib):
    nn, out = lib.nn, []
    lib.manual_seed(0)
    m = nn.LazyLinear(3)
    out += [repr(m), repr(m.weight), str(m.state_dict()), m.has_uninitialized_params()]
    y = m(lib.ones(2, 4))
    out += [repr(m), type(m).__name__, tuple(m.weight.shape), m.weight.detach().numpy().round(5).tolist(),
            tuple(y.shape), m.has_uninitialized_params() if hasattr(m, 'has_uninitialized_params') else None]
    c = nn.LazyConv2d(5, 3)
    out.append(repr(c))
    c(lib.ones(1, 2, 6, 6))
    out += [repr(c), type(c).__name__, c.weight.detach().numpy().round(5).tolist()]
    c = nn.LazyConv1d(4, 2, groups=2)
    c(lib.ones(4, 5))
    out += [repr(c), tuple(c.weight.shape)]
    c = nn.LazyConv3d(2, 2, bias=False)
    c(lib.ones(1, 3, 3, 3, 3))
    out += [repr(c), tuple(c.weight.shape), c.bias]
    b = nn.LazyBatchNorm1d()
    out += [repr(b), str(b.state_dict())]
    b(lib.tensor([[1., 2., 3.], [3., 2., 0.]]))
    out += [repr(b), list(b.state_dict()), b.running_mean.numpy().round(6).tolist()]
    b = nn.LazyBatchNorm2d(affine=False)
    b(lib.ones(2, 3, 2, 2))
    out += [repr(b), list(b.state_dict())]
    m2 = nn.LazyLinear(3)
    m2.load_state_dict(nn.Linear(5, 3).state_dict())
    out += [repr(m2), type(m2).__name__, tuple(m2.weight.shape)]
    m2(lib.ones(1, 5))
    out.append(type(m2).__name__)
    out += [lib.nn.parameter.is_lazy(nn.LazyLinear(2).weight), isinstance(nn.LazyLinear(2).weight, nn.Parameter),
            str(nn.LazyBatchNorm2d().running_mean), str(nn.LazyLinear(2).weight.dtype)]
    return out


def test_lazy_modules_as_pytorch():
    for e, t in zip(_story(ember), _story(torch)):
        assert e == t


def test_uninitialized_parameter_errors_as_pytorch():
    for lib in (ember, torch):
        u = lib.nn.LazyLinear(2).weight
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            u.shape
        with pytest.raises(ValueError, match='Attempted to use an uninitialized parameter in'):
            u + 1
        with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
            u.share_memory_()


def test_lazy_linear_trains_after_its_first_forward():
    losses = []
    for lib in (ember, torch):
        lib.manual_seed(1)
        model = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyLinear(1))
        x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
        model(x)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        run = []
        for _ in range(3):
            loss = (model(x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


@pytest.mark.parametrize('make,shape', [
    (lambda L: L.nn.LazyConvTranspose1d(2, 3, bias=False), (2, 3, 5)),
    (lambda L: L.nn.LazyConvTranspose2d(4, 3, stride=2, output_padding=1), (1, 3, 5, 5)),
    (lambda L: L.nn.LazyConvTranspose3d(2, 2, groups=2, dilation=2), (1, 4, 3, 3, 3)),
    (lambda L: L.nn.LazyInstanceNorm1d(), (2, 3, 5)),
    (lambda L: L.nn.LazyInstanceNorm2d(affine=True, track_running_stats=False), (2, 3, 5, 5)),
    (lambda L: L.nn.LazyInstanceNorm3d(bias=False), (2, 3, 2, 3, 3)),
    (lambda L: L.nn.LazyBatchNorm1d(bias=False), (4, 3)),
])
def test_lazy_transposed_convs_and_instance_norms(make, shape):
    """Reprs before and after, seeded parameters bit for bit, state dict keys, output and gradients."""
    mods = {}
    for L in (ember, torch):
        L.manual_seed(0)
        mods[L] = make(L)
    assert repr(mods[ember]) == repr(mods[torch])
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = mods[ember](xe), mods[torch](xt)
    assert repr(mods[ember]) == repr(mods[torch]) and type(mods[ember]).__name__ == type(mods[torch]).__name__
    se, st = mods[ember].state_dict(), mods[torch].state_dict()
    assert list(se) == list(st)
    for k in st:
        np.testing.assert_array_equal(se[k].numpy(), st[k].numpy())
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
