"""Real public programs run on ember against PyTorch (session 27, NLP / generative / RL / scientific code):
functorch's own examples (maml_regression/evjang_transforms_module.py with make_functional, grad and vmap;
lennard_jones.py with vmap(jacrev(model)); combine_state_for_ensemble), reduced to their essential lines and
checked against PyTorch's functorch package."""
import sys
import warnings

import functorch as torch_functorch
import numpy as np
import pytest
import torch

import ember
import ember.functorch as ember_functorch
from ember import aliasing


def _net(T):
    T.manual_seed(0)
    return T.nn.Sequential(T.nn.Linear(1, 8), T.nn.ReLU(), T.nn.Linear(8, 8), T.nn.ReLU(), T.nn.Linear(8, 1))


def _maml_step(T, ft, xs):
    """One outer step of evjang_transforms_module.py: vmap over tasks of an inner functorch.grad step."""
    net, params = ft.make_functional(_net(T))
    x1, y1, x2, y2 = (T.tensor(a) for a in xs)

    def task_loss(x1, y1, x2, y2):
        grads = ft.grad(lambda p, x, y: T.mean((net(p, x) - y) ** 2))(params, x1, y1)
        new = [p - 0.1 * g for p, g in zip(params, grads)]
        return T.mean((net(new, x2) - y2) ** 2)
    losses = ft.vmap(task_loss)(x1, y1, x2, y2)
    (sum(losses) / len(losses)).backward()
    return losses.detach().numpy(), [p.grad.numpy() for p in params], type(params[0]).__name__, type(net).__name__


def test_functorch_maml_regression_step():
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-5, 5, (3, 6, 1)).astype(np.float32) for _ in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        want = _maml_step(torch, torch_functorch, xs)
        got = _maml_step(ember, ember_functorch, xs)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-7)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)
    assert got[2:] == want[2:]


def test_functorch_vmap_jacrev_module():
    """lennard_jones.py's vmap(jacrev(model))(norms): per-sample derivatives of a module."""
    norms = np.linspace(0.5, 1.0, 7, dtype=np.float32).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        want = torch_functorch.vmap(torch_functorch.jacrev(_net(torch)))(torch.tensor(norms))
        got = ember_functorch.vmap(ember_functorch.jacrev(_net(ember)))(ember.tensor(norms))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('api,call', [
    ('grad', lambda ft: ft.grad(lambda x: x.sum())),
    ('vmap', lambda ft: ft.vmap(lambda x: x)),
    ('jacrev', lambda ft: ft.jacrev(lambda x: x)),
    ('make_functional', lambda ft: ft.make_functional(ft.__torch__.nn.Linear(2, 2))),
])
def test_functorch_deprecation_warning_as_torch(api, call):
    """The FutureWarning text and category, pointing at the caller's line."""
    msgs = []
    for T, ft in ((torch, torch_functorch), (ember, ember_functorch)):
        ft.__torch__ = T
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            call(ft)
        del ft.__torch__
        msgs.append([(x.category, str(x.message), x.filename) for x in w])
    assert msgs[1] == msgs[0]
    assert msgs[0] and msgs[0][0][2] == __file__ and f'`functorch.{api}`' in msgs[0][0][1]


def test_combine_state_for_ensemble():
    def run(T, ft):
        T.manual_seed(0)
        models = [T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4)) for _ in range(3)]
        x = T.tensor(np.arange(15, dtype=np.float32).reshape(5, 3) / 7)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            fmodel, params, buffers = ft.combine_state_for_ensemble(models)
            out = ft.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
        return out.detach().numpy(), [tuple(p.shape) for p in params], [tuple(b.shape) for b in buffers], \
            [p.requires_grad for p in params]
    want, got = run(torch, torch_functorch), run(ember, ember_functorch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
    assert got[1:] == want[1:]


def test_import_functorch_under_ember_run():
    """`import functorch` in a program run by `ember run` gives ember's functorch."""
    saved = sys.modules.get('functorch')
    with aliasing.as_torch():
        import functorch
        assert functorch is ember_functorch
        from functorch import vmap, make_functional  # noqa: F401
    assert sys.modules.get('functorch') is saved


_LIST_OF_ARRAYS_SCRIPT = """
import sys, warnings, numpy as np
T = __import__(sys.argv[1])
warnings.simplefilter('always')
L = [np.zeros(2, np.float32), np.ones(2, np.float32)]
with warnings.catch_warnings(record=True) as w:
    T.tensor([np.float32(1), np.float32(2)]); T.tensor([[1.0, 2.0]]); T.tensor(np.zeros((2, 2)))
    print('none', len(w))
    x = getattr(T, sys.argv[2])(L); getattr(T, sys.argv[2])(L); T.tensor(L)
    print('once', [(x.category.__name__, str(x.message), x.lineno) for x in w])
print(x.dtype, x.tolist())
"""


@pytest.mark.parametrize('ctor', ['tensor', 'as_tensor', 'Tensor', 'FloatTensor'])
def test_list_of_ndarrays_warns_once(ctor, tmp_path):
    """evjang's sample_tasks builds torch.tensor(list of ndarrays): PyTorch warns once per process that this is
    slow (a list of NumPy scalars, nested float lists or one array do not warn)."""
    import os
    import subprocess
    script = tmp_path / 'lst.py'
    script.write_text(_LIST_OF_ARRAYS_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ember.__file__)))
    outs = [subprocess.run([sys.executable, str(script), name, ctor], capture_output=True, text=True, env=env,
                           check=True).stdout for name in ('torch', 'ember')]
    assert outs[1] == outs[0]     # (with PyTorch's C++ source location: "(Triggered internally at ...)")
    assert 'extremely slow' in outs[0]


@pytest.mark.parametrize('op', ['div', 'rdiv', 'mul', 'sub', 'atan2', 'pow', 'maximum'])
def test_float64_scalar_parameter_of_float32_op_gradient(op):
    """swyoon/pytorch-minimal-gaussian-process: a 0-d float64 hyperparameter (nn.Parameter(torch.tensor(np.log(l))))
    divides a float32 kernel matrix. The op runs in float32, and so does PyTorch's derivative formula: the
    parameter's gradient is a float32 sum cast to float64 (ember computed it in float64)."""
    x0 = np.random.default_rng(0).random((60, 70)).astype(np.float32) + 0.5
    res = []
    for T in (torch, ember):
        p = T.tensor(np.float64(0.75), requires_grad=True)
        x = T.tensor(x0, requires_grad=True)
        f = {'div': lambda: x / p, 'rdiv': lambda: p / x, 'mul': lambda: x * p, 'sub': lambda: p - x,
             'atan2': lambda: T.atan2(x, p), 'pow': lambda: x ** p, 'maximum': lambda: T.maximum(x, p)}[op]
        out = f()
        (out * out).sum().backward()
        res.append((out.dtype, p.grad.dtype, p.grad.item(), x.grad.numpy()))
    assert str(res[1][0]) == str(res[0][0]) and str(res[1][1]) == str(res[0][1])
    assert res[1][2] == pytest.approx(res[0][2], rel=3e-6)
    assert float(np.float32(res[1][2])) == res[1][2]   # a float32 sum, widened
    np.testing.assert_allclose(res[1][3], res[0][3], rtol=1e-6)


def test_gp_kernel_hyperparameter_gradients():
    """The GP's log marginal likelihood (cholesky, triangular solves) by its 0-d float64 log-hyperparameters."""
    rng = np.random.default_rng(1)
    X0 = rng.standard_normal((40, 1)).astype(np.float32)
    y0 = (np.sin(X0 * np.pi / 2) + 0.1 * rng.standard_normal((40, 1))).astype(np.float32)
    res = []
    for T in (torch, ember):
        ls, noise, amp = (T.tensor(np.log(v), requires_grad=True) for v in (4.0, 1.0, 0.1))
        X, y = T.tensor(X0), T.tensor(y0)
        sq = (X ** 2).sum(dim=1, keepdim=True)
        K = T.exp(amp) * T.exp(-0.5 * (sq + sq.T - 2 * X.mm(X.T)) / T.exp(ls)) + T.exp(noise) * T.eye(40)
        L = T.linalg.cholesky(K)
        alpha = T.linalg.solve(L.T, T.linalg.solve(L, y))
        ml = -0.5 * y.T.mm(alpha) - T.log(T.diag(L)).sum()
        (-ml.sum()).backward()
        res.append((K.dtype, ml.item(), [v.grad.item() for v in (ls, noise, amp)]))
    assert str(res[1][0]) == str(res[0][0])
    assert res[1][1] == pytest.approx(res[0][1], rel=1e-6)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=2e-6)


_NUMPY_MIXES = {
    'np.float32 * t': lambda T, t: np.float32(0.98) * t, 'np.float64 * t': lambda T, t: np.float64(2.0) * t,
    'np.int64 * t': lambda T, t: np.int64(2) * t, 'np.bool_ * t': lambda T, t: np.bool_(True) * t,
    'np.float32 + t0': lambda T, t: np.float32(0.5) + t[0], 't * np.float32': lambda T, t: t * np.float32(0.98),
    'np.exp(t)': lambda T, t: np.exp(t), 'np.sqrt(t0)': lambda T, t: np.sqrt(t[1]), 'np.add(t, 1)': lambda T, t: np.add(t, 1),
    'np.greater(t, 1.5)': lambda T, t: np.greater(t, 1.5), 'np.maximum(nd, t)': lambda T, t: np.maximum(np.ones(3), t),
}


@pytest.mark.parametrize('case', list(_NUMPY_MIXES))
def test_numpy_scalars_and_ufuncs_with_tensors(case):
    """minimalRL's vtrace.py mixes NumPy and tensors (gamma * cs[i][0] * x with cs a NumPy array): a NumPy scalar
    times a tensor is a tensor (NumPy defers to the tensor's reflected operator, __array_priority__), and a NumPy
    ufunc on a tensor gives a tensor through PyTorch's one-argument __array_wrap__ (NumPy 2's DeprecationWarning
    about that signature, a 0-d result kept as a tensor, a bool result as uint8)."""
    res = []
    for T in (torch, ember):
        t = T.tensor([1.0, 2.0, 3.0])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            r = _NUMPY_MIXES[case](T, t)
        res.append((type(r).__name__, str(getattr(r, 'dtype', None)), np.asarray(r).tolist(),
                    [(x.category, str(x.message)) for x in w]))
    assert res[1] == res[0]


def test_torch_C_linalg_error_under_ember_run():
    """torchdiffeq's implicit solvers stop their Broyden iteration on ``except torch._C._LinAlgError``: the class
    PyTorch raises for a singular solve (torch.linalg.LinAlgError) under that name too."""
    assert torch._C._LinAlgError is torch.linalg.LinAlgError
    with aliasing.as_torch():
        import torch as aliased
        from torch._C import _LinAlgError
        assert aliased is ember and _LinAlgError is ember.linalg.LinAlgError
        with pytest.raises(aliased._C._LinAlgError) as err:
            aliased.linalg.solve(aliased.zeros(2, 2), aliased.ones(2))
        with pytest.raises(torch._C._LinAlgError) as want:
            torch.linalg.solve(torch.zeros(2, 2), torch.ones(2))
        assert str(err.value) == str(want.value)
        with pytest.raises(AttributeError):
            aliased._C._no_such_name
