"""F.ctc_loss and nn.CTCLoss against PyTorch 2.13: losses and gradients (through log_softmax, and PyTorch's own
gradient with respect to log_probs) for padded and concatenated targets, repeated labels, varied lengths, other
blanks, every reduction with and without zero_infinity, infeasible alignments, unbatched input, float32; the graph
(grad_fn names); float64 finite differences through log_softmax; the module's repr and arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF


def _case(seed=0, T=8, N=3, C=5, S=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C))
    tg = rng.integers(1, C, (N, S))
    tg[-1, :2] = [2, 2]                      # a repeated label needs a blank between
    il = np.array([T, T - 2, T - 1][:N])
    tl = np.array([S, 2, 3][:N])
    return x, tg, il, tl


def _both(x, fn_e, fn_t, dtype=np.float64):
    xe = ember.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    le, lt = fn_e(xe), fn_t(xt)
    assert le.grad_fn.name() == lt.grad_fn.name()
    np.testing.assert_allclose(le.detach().numpy(), lt.detach().numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)
    le.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
@pytest.mark.parametrize('zero_infinity', [False, True])
def test_against_torch(reduction, zero_infinity):
    x, tg, il, tl = _case()
    for blank in (0, 3):
        tgb = np.where(tg == blank, (blank + 1) % 5 or 1, tg)
        _both(x, lambda v: EF.ctc_loss(v.log_softmax(2), ember.tensor(tgb), ember.tensor(il), ember.tensor(tl),
                                       blank=blank, reduction=reduction, zero_infinity=zero_infinity),
              lambda v: TF.ctc_loss(v.log_softmax(2), torch.tensor(tgb), torch.tensor(il), torch.tensor(tl),
                                    blank=blank, reduction=reduction, zero_infinity=zero_infinity))


def test_gradient_with_respect_to_log_probs_and_float32():
    x, tg, il, tl = _case(1)
    lp = torch.tensor(x).log_softmax(2).numpy()
    for dt in (np.float64, np.float32):
        _both(lp, lambda v: EF.ctc_loss(v, ember.tensor(tg), ember.tensor(il), ember.tensor(tl)),
              lambda v: TF.ctc_loss(v, torch.tensor(tg), torch.tensor(il), torch.tensor(tl)), dtype=dt)


def test_concatenated_targets_tuples_and_unbatched():
    x, tg, il, tl = _case(2)
    flat = np.concatenate([tg[i, :k] for i, k in enumerate(tl)])
    _both(x, lambda v: EF.ctc_loss(v.log_softmax(2), ember.tensor(flat), tuple(il), tuple(tl)),
          lambda v: TF.ctc_loss(v.log_softmax(2), torch.tensor(flat), tuple(il), tuple(tl)))
    _both(x[:, 0], lambda v: EF.ctc_loss(v.log_softmax(1), ember.tensor(tg[0, :3]), ember.tensor(7), ember.tensor(3),
                                         reduction='none'),
          lambda v: TF.ctc_loss(v.log_softmax(1), torch.tensor(tg[0, :3]), torch.tensor(7), torch.tensor(3),
                                reduction='none'))


@pytest.mark.parametrize('zero_infinity', [False, True])
def test_infeasible(zero_infinity):
    x = np.random.default_rng(3).standard_normal((3, 2, 4))
    tg = np.array([[1, 1, 1], [2, 3, 1]])
    lp = torch.tensor(x).log_softmax(2).numpy()
    le = EF.ctc_loss(ember.tensor(lp, requires_grad=True), ember.tensor(tg), (3, 3), (3, 3), reduction='none',
                     zero_infinity=zero_infinity)
    lt = TF.ctc_loss(torch.tensor(lp, requires_grad=True), torch.tensor(tg), (3, 3), (3, 3), reduction='none',
                     zero_infinity=zero_infinity)
    np.testing.assert_array_equal(le.detach().numpy(), lt.detach().numpy())
    _both(lp, lambda v: EF.ctc_loss(v, ember.tensor(tg), (3, 3), (3, 3), reduction='sum', zero_infinity=zero_infinity),
          lambda v: TF.ctc_loss(v, torch.tensor(tg), (3, 3), (3, 3), reduction='sum', zero_infinity=zero_infinity))


def test_finite_differences_through_log_softmax():
    x, tg, il, tl = _case(4, T=5, N=2, C=4, S=2)
    f = lambda v: EF.ctc_loss(ember.tensor(v).log_softmax(2), ember.tensor(tg), ember.tensor(il),   # noqa: E731
                              ember.tensor(tl)).item()
    xe = ember.tensor(x, requires_grad=True)
    EF.ctc_loss(xe.log_softmax(2), ember.tensor(tg), ember.tensor(il), ember.tensor(tl)).backward()
    h = 1e-6
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        assert abs(xe.grad.numpy()[idx] - (f(xp) - f(xm)) / (2 * h)) < 1e-7


def test_module():
    assert repr(ember.nn.CTCLoss(blank=2, zero_infinity=True)) == repr(torch.nn.CTCLoss(blank=2, zero_infinity=True))
    x, tg, il, tl = _case(5)
    e = ember.nn.CTCLoss(reduction='sum')(ember.tensor(x).log_softmax(2), ember.tensor(tg), ember.tensor(il),
                                          ember.tensor(tl))
    t = torch.nn.CTCLoss(reduction='sum')(torch.tensor(x).log_softmax(2), torch.tensor(tg), torch.tensor(il),
                                          torch.tensor(tl))
    np.testing.assert_allclose(e.item(), t.item(), rtol=1e-12)
    with pytest.raises(ValueError):
        ember.nn.CTCLoss(reduction='avg')(ember.tensor(x).log_softmax(2), ember.tensor(tg), ember.tensor(il),
                                         ember.tensor(tl))
