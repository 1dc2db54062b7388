"""torch.nn.grad (torch.nn.functional.grad): conv{1,2,3}d_input and conv{1,2,3}d_weight against PyTorch 2.13 over
stride, padding, dilation and groups (the gradients autograd gives for the same convolution), and their own
gradients w.r.t. the weight / input and grad_output when those require grad."""
import numpy as np
import pytest
import torch

import ember

CASES = [  # (dims, input shape, weight shape, kwargs)
    (1, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=1, dilation=1, groups=2)),
    (1, (1, 1, 3), (1, 1, 1), {}),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    (2, (1, 4, 5, 5), (4, 1, 3, 3), dict(padding=1, groups=4)),
    (3, (1, 2, 5, 4, 6), (3, 2, 2, 3, 2), dict(stride=(1, 2, 2), padding=1)),
]


def _data(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize('n,xs,ws,kw', CASES, ids=str)
def test_conv_input_and_weight_gradients_match_torch(n, xs, ws, kw):
    x, w = _data(0, *xs), _data(1, *ws)
    out_shape = getattr(torch.nn.functional, f'conv{n}d')(torch.tensor(x), torch.tensor(w), **kw).shape
    go = _data(2, *out_shape)
    ref_in = torch.nn.grad.__dict__[f'conv{n}d_input'](xs, torch.tensor(w), torch.tensor(go), **kw)
    ref_w = torch.nn.grad.__dict__[f'conv{n}d_weight'](torch.tensor(x), ws, torch.tensor(go), **kw)
    got_in = getattr(ember.nn.grad, f'conv{n}d_input')(xs, ember.tensor(w), ember.tensor(go), **kw)
    got_w = getattr(ember.nn.functional.grad, f'conv{n}d_weight')(ember.tensor(x), ws, ember.tensor(go), **kw)
    for e, t in ((got_in, ref_in), (got_w, ref_w)):
        assert repr(e.dtype) == repr(t.dtype) and tuple(e.shape) == tuple(t.shape)
        assert not e.requires_grad
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('n,xs,ws,kw', CASES[:3], ids=str)
def test_results_are_differentiable_when_their_inputs_require_grad(n, xs, ws, kw):
    x, w = _data(3, *xs), _data(4, *ws)
    out_shape = getattr(torch.nn.functional, f'conv{n}d')(torch.tensor(x), torch.tensor(w), **kw).shape
    go, r_in, r_w = _data(5, *out_shape), _data(6, *xs), _data(7, *ws)
    grads = []
    for lib, mod in ((ember, ember.nn.grad), (torch, torch.nn.grad)):
        wt, xt, gt = (lib.tensor(a, requires_grad=True) for a in (w, x, go))
        gi = getattr(mod, f'conv{n}d_input')(xs, wt, gt, **kw)
        gw = getattr(mod, f'conv{n}d_weight')(xt, ws, gt, **kw)
        ((gi * lib.tensor(r_in)).sum() + (gw * lib.tensor(r_w)).sum()).backward()
        grads.append([t.grad.numpy() for t in (wt, xt, gt)])
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)
