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
