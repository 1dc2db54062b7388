"""Knowledge-graph and probabilistic time-series libraries run under the alias against PyTorch (session 39): pykeen
1.11 (pipeline() on Nations with TransE, DistMult, ComplEx, RotatE, ConvE, TuckER, sLCWA and LCWA, losses, negative
samplers, the rank-based evaluator, save/load) and gluonts 0.17's torch models (DeepAR, SimpleFeedForward, PatchTST,
DLinear, TFT), each reduced to the lines that found a defect in ember."""
import numpy as np
import torch

import ember


def _bits_equal(shape, p, dim, dtype=np.float32, transpose=False, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    t, e = torch.from_numpy(x), ember.from_numpy(x)
    if transpose:
        t, e = t.transpose(0, -1), e.transpose(0, -1)
    want = t.norm(p=p, dim=dim).numpy()
    got = e.norm(p=p, dim=dim).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


# -- pykeen: nn/modules.py TransEInteraction scores -||h + r - t||_1 by x.norm(p=1, dim=-1) -----------------------------
def test_one_norm_adds_in_pytorch_order():
    """pykeen/utils.py negative_norm: TransE's scores (batches of (256, 3, 8)) differed in the last bit from the
    first batch, as NumPy's pairwise sum is not PyTorch's serial one."""
    for shape, dim in [((256, 3, 8), -1), ((100, 37), 1), ((8, 4000), 0), ((30, 20, 6), (0, 2)), ((5000,), None)]:
        for dtype in (np.float32, np.float64):
            _bits_equal(shape, 1, dim, dtype)
            if len(shape) > 1:
                _bits_equal(shape, 1, -1, dtype, transpose=True)


# -- pykeen: TransE's entity constrainer F.normalize and the 2-norm scores of RotatE / TransE(p=2) ----------------------
def test_two_norm_of_float32_adds_in_pytorch_order():
    """PyTorch's vectorised 2-norm of a last dim (8-lane squares, lanes in order, a fused tail) and its serial one
    over other dims."""
    for shape, dim in [((4000, 8), -1), ((256, 3, 8), -1), ((300, 7), -1), ((3, 5), -1), ((64, 200), -1),
                       ((100, 100), None), ((8, 4000), 0), ((30, 20, 6), 1), ((30, 20, 6), (1, 2))]:
        _bits_equal(shape, 2, dim)
        if len(shape) > 1:
            _bits_equal(shape, 2, -1, transpose=True)
    y = np.random.default_rng(1).standard_normal((14, 8)).astype(np.float32)
    want = torch.nn.functional.normalize(torch.from_numpy(y), dim=-1).numpy()
    np.testing.assert_array_equal(ember.nn.functional.normalize(ember.from_numpy(y), dim=-1).numpy(), want)


def test_norm_gradients_match_finite_differences():
    """The reordered sums keep the 1- and 2-norm's gradients (float64 finite differences)."""
    x = ember.tensor(np.random.default_rng(2).standard_normal((5, 3, 8)), requires_grad=True)
    for p in (1, 2):
        assert ember.autograd.gradcheck(lambda a: a.norm(p=p, dim=-1), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
        assert ember.autograd.gradcheck(lambda a: a.norm(p=p, dim=(0, 2), keepdim=True), (x,), eps=1e-6,
                                        atol=1e-5, rtol=1e-3)


# -- pykeen: pipeline(optimizer='Adagrad'): the params parted from PyTorch's after the second step -----------------
def _steps(lib, name, dtype, **kw):
    rng = np.random.default_rng(3)
    w = lib.nn.Parameter(lib.from_numpy(rng.standard_normal((14, 8)).astype(dtype)))
    opt = getattr(lib.optim, name)([w], lr=0.05, **kw)
    states = []
    for _ in range(4):
        w.grad = lib.from_numpy((rng.standard_normal((14, 8)) * 0.1).astype(dtype))
        opt.step()
        states.append({k: v.numpy().copy() for k, v in opt.state[w].items() if k != 'step'})
    return w.detach().numpy(), states


def test_optimizer_moments_round_as_addcmul_and_lerp():
    """torch/optim/adagrad.py (state_sum.addcmul_(grad, grad)), adam.py (exp_avg.lerp_, exp_avg_sq.addcmul_) and
    rmsprop.py (square_avg.addcmul_): PyTorch's kernels round value * t1 * t2 + self and lerp with one fused
    multiply-add; ember's optimizers rounded the product first, so the moments differed in the last bit."""
    for dtype in (np.float32, np.float64):
        for name, kw in [('Adagrad', {}), ('Adam', {}), ('Adam', dict(amsgrad=True)), ('AdamW', {}),
                         ('RMSprop', {})]:
            _, want = _steps(torch, name, dtype, **kw)
            _, got = _steps(ember, name, dtype, **kw)
            for s_want, s_got in zip(want, got):
                for key in s_want:
                    np.testing.assert_array_equal(s_got[key], s_want[key], err_msg=f'{name} {kw} {key}')
