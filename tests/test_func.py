"""torch.func (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call,
stack_module_state) against PyTorch: one program run on both prints the same values, structures, requires_grad
flags and error messages; the transforms' derivatives are checked against float64 central differences."""
import numpy as np
import pytest
import torch

import ember
import ember.func


def _fmt(lib, r):
    if isinstance(r, lib.Tensor):
        return ('T', tuple(r.shape), r.requires_grad, np.round(r.detach().numpy().astype(np.float64), 4) + 0.0)
    if isinstance(r, (tuple, list)):
        return (type(r).__name__,) + tuple(_fmt(lib, x) for x in r)
    if isinstance(r, dict):
        return tuple((k, _fmt(lib, v)) for k, v in r.items())
    return r


def _program(torch, F):
    """Each transform on its typical uses and misuses; returns [(tag, result or (error type, message))]."""
    grad, vmap, jacrev, jacfwd, hessian = F.grad, F.vmap, F.jacrev, F.jacfwd, F.hessian
    vjp, jvp, grad_and_value, functional_call, stack_module_state = (F.vjp, F.jvp, F.grad_and_value,
                                                                     F.functional_call, F.stack_module_state)
    log = []

    def show(tag, f):
        try:
            log.append((tag, _fmt(torch, f())))
        except Exception as e:
            log.append((tag, type(e).__name__, str(e)))
    torch.manual_seed(0)
    x = torch.randn(3); y = torch.randn(3)
    show(1, lambda: grad(lambda x: x * 2)(x))
    show(2, lambda: grad(lambda x: x.sum(), argnums=1)(x))
    show(3, lambda: grad(lambda x: (x.sum(), 1))(x))
    show(4, lambda: grad(lambda x: x.sum())(3.0))
    show(5, lambda: grad(lambda x: (x.sin()**2).sum())(x))
    show(6, lambda: grad(lambda x, y: (x*y).sum(), argnums=(0, 1))(x, y))
    show(7, lambda: grad(lambda d: (d['a'] * d['b']).sum())({'a': x, 'b': y}))
    show(8, lambda: grad(lambda x: ((x**2).sum(), x.cos()), has_aux=True)(x))
    show(9, lambda: grad_and_value(lambda x: (x**3).sum())(x))
    show(10, lambda: grad(grad(lambda x: x.sin()))(torch.tensor(0.7)))
    xr = torch.randn(3, requires_grad=True)
    show(11, lambda: grad(lambda x: (x**3).sum())(xr))
    g = grad(lambda x: (x**3).sum())(xr); g.sum().backward(); show(12, lambda: xr.grad)
    show(13, lambda: vmap(lambda a, b: a + b)(torch.randn(3, 2), torch.randn(4, 2)))
    show(14, lambda: vmap(lambda a: a + torch.randn(2))(torch.randn(3, 2)))
    show(15, lambda: vmap(lambda a: 1)(torch.randn(3, 2)))
    show(17, lambda: vmap(lambda a: a, in_dims=2)(torch.randn(3, 2)))
    show(18, lambda: vmap(lambda a: a.sum())(torch.arange(6.).reshape(3, 2)))
    show(19, lambda: vmap(lambda a: a, out_dims=1)(torch.arange(6.).reshape(3, 2)))
    show(20, lambda: vmap(lambda a: a)(5))
    show(21, lambda: vmap(lambda a: a, in_dims=None)(torch.randn(3)))
    show(22, lambda: jacrev(lambda a: a.sin())(x))
    show(23, lambda: jacrev(lambda a, b: (a*b, a), argnums=(0,1))(x, y))
    show(24, lambda: jacfwd(lambda a: a.exp() * a)(x))
    show(25, lambda: hessian(lambda a: (a**3).sum() * a[0])(x))
    show(26, lambda: vjp(lambda x: x.sin(), x)[1](torch.ones(3)))
    show(27, lambda: jvp(lambda x: x.sin(), (x,), (torch.ones(3),)))
    show(28, lambda: jvp(lambda x: x.sin(), x, torch.ones(3)))
    lin = torch.nn.Linear(2, 2)
    show(29, lambda: functional_call(lin, {'weight': torch.eye(2)}, (torch.ones(1, 2),)))
    show(30, lambda: functional_call(lin, {'weight': torch.eye(2)}, (torch.ones(1, 2),), strict=True))
    show(31, lambda: functional_call(lin, ({'weight': torch.eye(2)}, {'weight': torch.eye(2)}), torch.ones(1, 2)))
    show(32, lambda: lin.weight)
    torch.manual_seed(0)
    show(33, lambda: stack_module_state([torch.nn.Linear(2, 2) for _ in range(3)]))
    torch.manual_seed(0)
    show(34, lambda: vmap(lambda a: a + torch.randn(2), randomness='same')(torch.randn(3, 2)))
    show(35, lambda: torch.rand(2))
    show(36, lambda: vmap(lambda a: a * 2, in_dims=1, out_dims=1)(torch.arange(6.).reshape(2, 3)))
    show(37, lambda: vmap(lambda d: {'a': d['x'] * 2}, in_dims=({'x': 0},))({'x': torch.arange(3.)}))
    show(38, lambda: vmap(vmap(lambda a, b: a * b), in_dims=(0, None))(torch.arange(6.).reshape(2, 3), torch.arange(3.)))
    # per-sample gradients
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    params = {k: v.detach() for k, v in model.named_parameters()}
    data = torch.randn(6, 4); target = torch.randint(0, 2, (6,))
    def loss_fn(params, x, t):
        out = functional_call(model, params, (x.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, t.unsqueeze(0))
    show(39, lambda: vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, data, target))
    show(40, lambda: jvp(lambda a, b: (a*b).sum(), (x, y), (torch.ones(3), torch.ones(3)), strict=True))
    show(41, lambda: jvp(lambda a: torch.ones(2), (x,), (torch.ones(3),), strict=True))
    show(42, lambda: jacrev(lambda a: a @ a.T)(torch.arange(4.).reshape(2, 2)))
    show(43, lambda: jvp(lambda x: (x.sin(), x.cos()*2), (x,), (y,)))
    show(44, lambda: vjp(lambda x, y: x*y, x, y, has_aux=False)[1](torch.ones(3)))
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__(); self.a = torch.nn.Linear(2, 2, bias=False); self.b = self.a
        def forward(self, x): return self.b(self.a(x))
    m = M()
    show(45, lambda: functional_call(m, {'a.weight': torch.eye(2) * 2}, torch.ones(1, 2)))
    show(46, lambda: functional_call(m, {'a.weight': torch.eye(2) * 2, 'b.weight': torch.eye(2)}, torch.ones(1, 2)))
    show(47, lambda: functional_call(m, {'a.weight': torch.eye(2) * 2}, torch.ones(1, 2), tie_weights=False))

    return log


def test_func_program_matches_pytorch():
    e = _program(ember, ember.func)
    t = _program(torch, torch.func)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert _close(a, b), (a, b)


def _close(a, b):
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.allclose(a, b, atol=2e-4)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def _numeric_jacobian(f, x, eps=1e-6):
    """d f(x) / d x by central differences in float64: shape f(x).shape + x.shape."""
    a = x.numpy()
    cols = []
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        hi = f(x).numpy().copy()
        a[i] = old - eps
        lo = f(x).numpy().copy()
        a[i] = old
        cols.append((hi - lo) / (2 * eps))
    out_shape = cols[0].shape
    return np.stack(cols, -1).reshape(out_shape + a.shape)


def _cubic(a):
    return (a.sin() * a.pow(3)).sum() + a[0] * a[1]


def test_transforms_match_float64_finite_differences():
    ember.manual_seed(0)
    x = ember.randn(4, dtype=ember.float64)
    v = ember.randn(4, dtype=ember.float64)
    F = ember.func
    vec = lambda a: a.tanh() * a[0]     # noqa: E731
    np.testing.assert_allclose(F.grad(_cubic)(x).numpy(), _numeric_jacobian(_cubic, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(F.hessian(_cubic)(x).numpy(), _numeric_jacobian(F.grad(_cubic), x), rtol=1e-6,
                               atol=1e-8)
    jac = _numeric_jacobian(vec, x)
    np.testing.assert_allclose(F.jacrev(vec)(x).numpy(), jac, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(F.jacfwd(vec)(x).numpy(), jac, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(F.jvp(vec, (x,), (v,))[1].numpy(), jac @ v.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(F.vjp(vec, x)[1](v)[0].numpy(), v.numpy() @ jac, rtol=1e-6, atol=1e-8)
    per_sample = F.vmap(F.grad(_cubic))(ember.stack([x, v]))
    np.testing.assert_allclose(per_sample[1].numpy(), _numeric_jacobian(_cubic, v), rtol=1e-6, atol=1e-8)


def test_grad_of_input_requiring_grad_is_differentiable_float64():
    """grad(f)(x) for x requiring grad keeps its graph, as PyTorch's does: second derivatives by backward."""
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    ember.func.grad(_cubic)(x).sum().backward()
    num = _numeric_jacobian(lambda a: ember.func.grad(_cubic)(a).sum(), x.detach())
    np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-6, atol=1e-8)


def test_functional_call_restores_module_and_reaches_given_tensors():
    lin = ember.nn.Linear(3, 2)
    before = {k: v for k, v in lin.named_parameters()}
    w = ember.randn(2, 3, requires_grad=True)
    out = ember.func.functional_call(lin, {'weight': w}, ember.ones(1, 3))
    out.sum().backward()
    assert lin.weight is before['weight']
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((2, 3), np.float32))
    assert lin.weight.grad is None


def test_torch_func_resolves_under_ember_run(tmp_path):
    script = tmp_path / 's.py'
    script.write_text('import torch\nfrom torch.func import grad, vmap\n'
                      'print(vmap(grad(lambda x: (x ** 2).sum()))(torch.arange(6.).reshape(3, 2)))\n'
                      'print(torch.func.functional_call)\n')
    import subprocess
    import sys
    r = subprocess.run([sys.executable, '-m', 'ember', 'run', str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('tensor([[ 0.,  2.],\n        [ 4.,  6.],\n        [ 8., 10.]])')


def test_stateless_functional_call_warns_and_calls():
    import torch.nn.utils.stateless as ts
    import ember.nn.utils.stateless as es
    res = []
    for lib, mod in ((ember, es), (torch, ts)):
        lin = lib.nn.Linear(2, 2)
        with pytest.warns(FutureWarning) as caught:
            out = mod.functional_call(lin, {'weight': lib.eye(2), 'bias': lib.zeros(2)}, (lib.tensor([[1.0, 2.0]]),))
        res.append((str(caught[0].message), out.tolist()))
    assert res[0] == res[1]


_BAD_OUTPUTS = [None, 3, 'a', [None], 'pair-with-None']


def _transform_calls(F, x):
    """Each transform applied to ``f`` (the jacrev docstring's f returns None under a misindented body)."""
    return {'jacrev': lambda f: F.jacrev(f)(x), 'jacfwd': lambda f: F.jacfwd(f)(x),
            'hessian': lambda f: F.hessian(f)(x), 'vjp': lambda f: F.vjp(f, x),
            'jvp': lambda f: F.jvp(f, (x,), (x,))}


@pytest.mark.parametrize('api', ['jacrev', 'jacfwd', 'hessian', 'vjp', 'jvp'])
@pytest.mark.parametrize('bad', range(len(_BAD_OUTPUTS)))
def test_transform_of_a_function_returning_no_tensor_is_torchs_error(api, bad):
    """f returning None, a number, a string, [None] or (tensor, None): PyTorch's RuntimeError, worded by the
    transform it runs on (vjp for jacrev and hessian, jvp for jacfwd)."""
    msgs = []
    for lib in (ember, torch):
        x = lib.ones(3)
        out = (x, None) if _BAD_OUTPUTS[bad] == 'pair-with-None' else _BAD_OUTPUTS[bad]
        with pytest.raises(RuntimeError) as info:
            _transform_calls(lib.func, x)[api](lambda x: out)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_jvp_of_non_tensor_primals_or_tangents_and_vjp_fn_cotangents_are_torchs_errors():
    """jvp's non-tensor primals / tangents (RuntimeError), vjp_fn's non-tensor cotangent (TypeError); a None
    cotangent is the implicit one of a scalar output, refused for other outputs as PyTorch does."""
    got = []
    for lib in (ember, torch):
        x, F, msgs = lib.ones(3), lib.func, []
        for call, exc in [(lambda: F.jvp(lambda x: x, (x,), (3,)), RuntimeError),
                          (lambda: F.jvp(lambda x: x, (3,), (x,)), RuntimeError),
                          (lambda: F.vjp(lambda x: x, x)[1](3), TypeError),
                          (lambda: F.vjp(lambda x: x, x)[1](None), RuntimeError),
                          (lambda: F.vjp(lambda x: (x, x), x)[1]((x, None)), RuntimeError)]:
            with pytest.raises(exc) as info:
                call()
            msgs.append(str(info.value))
        msgs.append(F.vjp(lambda x: (x * x).sum(), x * 2)[1](None)[0].tolist())
        got.append(msgs)
    assert got[0] == got[1]


def test_linearize_matches_torch():
    """torch.func.linearize (its docstring example and pytrees of primals): the output, and jvp_fn's products for
    several tangents; PyTorch's errors for tangents of another structure, shape or dtype."""
    got = []
    for lib in (ember, torch):
        x = lib.tensor(np.linspace(-1, 1, 5))
        y = lib.tensor(np.linspace(0.5, 2, 5))
        out, jvp_fn = lib.func.linearize(lambda a, b: (a.sin() * b, (a * a).sum()), x, y)
        res = [out[0].numpy(), out[1].item()]
        for t in (lib.ones(5, dtype=lib.float64), lib.tensor(np.arange(5.))):
            j = jvp_fn(t, 2 * t)
            res += [j[0].numpy(), j[1].item()]
        out2, fn2 = lib.func.linearize(lambda d: d['u'].exp() * d['v'], {'u': x, 'v': y})
        res.append(fn2({'u': lib.ones(5, dtype=lib.float64), 'v': x}).numpy())
        errs = []
        for bad in ((lib.ones(5, dtype=lib.float64),), (lib.ones(4, dtype=lib.float64), x),
                    (lib.ones(5, dtype=lib.float32), x)):
            with pytest.raises(RuntimeError) as info:
                jvp_fn(*bad)
            errs.append(str(info.value).split(' ')[0])
        got.append((res, errs))
    for a, b in zip(got[0][0], got[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert got[0][1] == got[1][1]
