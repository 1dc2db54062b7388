"""pyro-ppl 1.9 and gpytorch 1.15 (with linear_operator 0.6) under ``ember.aliasing.as_torch()`` (session 35): the
lines of their imports, of pyro's intro SVI/NUTS examples and of gpytorch's "Simple GP Regression" tutorial that
stopped ember or gave other values than PyTorch, each reduced to those lines and checked against PyTorch. Neither
library is needed here."""
import sys

import numpy as np
import pytest
import torch

import ember
from _isa import pytorch_avx512
from helpers import run_both


# -- pyro/distributions/torch_patch.py: patch_dependency asserts ``target.split('.')[0] == torch.__name__`` -------
def test_torch_name_under_the_alias_is_torchs():
    """pyro's import checks that its torch is named "torch"; under the alias it is ember, named "torch" while the
    alias is on (its import identity, ``__spec__.name``, stays "ember"), and ember's own ``from . import _x`` of a
    module not yet loaded still works there."""
    assert ember.__name__ == 'ember'
    with ember.aliasing.as_torch():
        import torch as aliased
        assert aliased is ember
        assert (aliased.__name__, aliased.__spec__.name) == (torch.__name__, 'ember')
        sys.modules.pop('ember._lowrank', None)
        vars(ember).pop('_lowrank', None)
        from ember import _lowrank   # what a relative import inside ember does
        assert _lowrank is sys.modules['ember._lowrank']
        with pytest.raises(AttributeError, match='not supported by ember'):
            aliased.no_such_name
    assert ember.__name__ == 'ember'


def test_serialization_map_location_type():
    """pyro/params/param_store.py: ``from torch.serialization import MAP_LOCATION`` (load's map_location type)."""
    from ember.serialization import MAP_LOCATION

    def kinds(alias):
        return [getattr(getattr(a, '__origin__', a), '__name__', None) for a in alias.__args__]
    assert kinds(MAP_LOCATION) == kinds(torch.serialization.MAP_LOCATION)
    assert isinstance(ember.device('cpu'), MAP_LOCATION.__args__[1])


# -- linear_operator/utils/cholesky.py: psd_safe_cholesky calls linalg.cholesky_ex(A, out=(L, info)) --------------
def _spd(T):
    T.manual_seed(0)
    A = T.randn(3, 3, dtype=T.float64)
    return A @ A.mT + 3 * T.eye(3, dtype=T.float64), T.randn(3, 2, dtype=T.float64)


@pytest.mark.parametrize('name,n', [('cholesky_ex', 2), ('inv_ex', 2), ('solve_ex', 2), ('lu_factor', 2),
                                    ('lu_factor_ex', 3), ('lu', 3), ('eig', 2)])
def test_linalg_tuple_results_take_out(name, n):
    """The tuple-valued linalg ops write into ``out=`` tensors (resized, the same objects returned); an integer
    result (info, pivots) needs an integer out and a float one a float out of its dtype, as PyTorch checks."""
    def call(T, dtypes):
        S, B = _spd(T)
        outs = tuple(T.empty(0, dtype=d) for d in dtypes)
        args = (S, B) if name == 'solve_ex' else (S,)
        r = getattr(T.linalg, name)(*args, out=outs)
        return [x is o for x, o in zip(r, outs)] + [x.dtype for x in outs] + list(outs)

    def ints(T):
        return (T.float64, T.int32, T.int32) if name.startswith('lu_factor') else (T.float64, T.int32)

    def right(T):
        if name == 'lu':
            return call(T, (T.float64,) * 3)
        return call(T, (T.complex128,) * 2 if name == 'eig' else ints(T)[:n])
    run_both(right)
    for wrong in ('float32', 'int64', 'complex128'):
        run_both(lambda T: call(T, (getattr(T, wrong),) * n), message=True)


@pytest.mark.parametrize('name', ['cond', 'matrix_power', 'multi_dot', 'vecdot', 'tensorinv', 'tensorsolve',
                                  'lu_solve', 'eigvals'])
def test_linalg_ops_take_out(name):
    """The remaining linalg ops that take ``out=`` in PyTorch: the value written, and each op's own dtype check."""
    def call(T, dtype):
        S, B = _spd(T)
        args = {'cond': (S,), 'matrix_power': (S, 2), 'multi_dot': ([S, S, B],), 'vecdot': (S, S),
                'tensorinv': (S, 1), 'tensorsolve': (S, B[:, 0]), 'lu_solve': (*T.linalg.lu_factor(S), B),
                'eigvals': (S,)}[name]
        o = T.empty(0, dtype=dtype)
        r = getattr(T.linalg, name)(*args, out=o)
        return [r is o, o]
    run_both(lambda T: call(T, T.complex128 if name == 'eigvals' else T.float64))
    for wrong in ('float32', 'int32', 'complex128'):
        run_both(lambda T: call(T, getattr(T, wrong)), message=True)


@pytest.mark.parametrize('name', ['cholesky_ex', 'solve_ex', 'lu_factor', 'multi_dot', 'vecdot', 'matrix_power',
                                  'cond', 'tensorsolve'])
def test_linalg_out_with_inputs_that_require_grad(name):
    """out= with an input that requires grad: refused naming the op PyTorch's kernel records (mm for multi_dot),
    or, for the composite ops, written through copy_ (the out gets a grad_fn)."""
    def call(T):
        S, B = _spd(T)
        S.requires_grad_()
        f64, i32 = T.empty(0, dtype=T.float64), T.empty(0, dtype=T.int32)
        args, out = {'cholesky_ex': ((S,), (f64, i32)), 'solve_ex': ((S, B), (f64, i32)), 'lu_factor': ((S,), (f64, i32)),
                     'multi_dot': (([S, S],), f64), 'vecdot': ((S, S), f64), 'matrix_power': ((S, 2), f64),
                     'cond': ((S,), f64), 'tensorsolve': ((S, B[:, 0]), f64)}[name]
        r = getattr(T.linalg, name)(*args, out=out)
        return [r, r is out, type(r.grad_fn).__name__]
    run_both(call, message=True)


# -- gpytorch/functions/rbf_covariance.py: backward returns an n x n gradient for the 1 x 1 lengthscale ----------
def test_function_gradient_summed_to_its_input_shape():
    """A custom Function's gradient that the input's shape broadcasts to is summed to that shape (then cast to the
    input's dtype), as PyTorch's engine does; gradcheck in float64 through the reduction."""
    def grads(T):
        class RBF(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, ls):
                d = (x.unsqueeze(-1) - x.unsqueeze(-2)) ** 2 / ls ** 2
                k = (-d / 2).exp()
                ctx.save_for_backward(d * k / ls)
                return k

            @staticmethod
            def backward(ctx, g):
                return None, (g * ctx.saved_tensors[0]).double()
        x = T.linspace(0, 1, 5)
        ls = T.tensor([[0.7]], requires_grad=True)
        RBF.apply(x, ls).sin().sum().backward()
        d64 = T.linspace(0, 1, 5, dtype=T.float64)
        ls64 = T.tensor([[0.7]], dtype=T.float64, requires_grad=True)
        ok = T.autograd.gradcheck(lambda l: RBF.apply(d64, l), (ls64,))
        return [ls.grad, ls.grad.dtype, ok]
    run_both(grads)


def test_function_gradient_of_an_incompatible_shape_is_refused():
    def bad(T):
        class F(T.autograd.Function):
            @staticmethod
            def forward(ctx, k, x, y):
                return x * 2 + y.sum()

            @staticmethod
            def backward(ctx, g):
                return None, g, T.ones(4)
        x, y = T.ones(3, requires_grad=True), T.ones(5, requires_grad=True)
        F.apply(3, x, y).sum().backward()
    run_both(bad, message=True)


# -- pyro/distributions/torch_transform.py: TransformModule(Transform, nn.Module), AutoIAFNormal's flow ------------
def test_transform_init_is_cooperative():
    """Transform.__init__ calls ``super().__init__()``, so a Transform that is also an nn.Module (pyro's
    AffineAutoregressive) can assign submodules after it, and its parameters are the module's."""
    def flow(T):
        class Scale(T.distributions.Transform, T.nn.Module):
            bijective = True

            def __init__(self):
                super().__init__(cache_size=1)
                self.net = T.nn.Linear(1, 1)

            def _call(self, x):
                return x * self.net.weight[0, 0].exp()

            def _inverse(self, y):
                return y / self.net.weight[0, 0].exp()

            def __hash__(self):
                return super(T.nn.Module, self).__hash__()
        T.manual_seed(0)
        t = Scale()
        x = T.tensor([1.0, 2.0])
        y = t(x)
        return [[n for n, _ in t.named_parameters()], y, t.inv(y) is x, t._cache_size, t._cached_x_y[0] is x,
                T.distributions.Transform(cache_size=0)._cache_size]
    run_both(flow)


# -- pyro/primitives.py: pyro.module compares ``param._cdata`` of the stored and the module's parameter ----------
def test_tensor_cdata_names_the_tensor():
    def cdata(T):
        a, b = T.zeros(2), T.zeros(2)
        p = T.nn.Parameter(T.ones(2))
        return [type(a._cdata) is int, a._cdata == a._cdata, a._cdata != b._cdata, p._cdata == p._cdata,
                a[0:1]._cdata != a._cdata, a.detach()._cdata != a._cdata]
    run_both(cdata)


# -- linear_operator/utils/cholesky.py: psd_safe_cholesky reads info>0 then looks for NaNs (NanError); pyro's
#    AutoLaplaceApproximation factors a covariance whose diagonal went NaN ------------------------------------------
_NAN_PIVOT = {where: ': ' + batch + 'The factorization could not be completed because the input is not '
              f'positive-definite (the leading minor of order {k} is not positive-definite).'
              for where, batch, k in (('first pivot', '', 1), ('last pivot', '', 2), ('off the diagonal', '', 2),
                                      ('batch element', '(Batch element 2): ', 2))}


@pytest.mark.filterwarnings('ignore:torch.cholesky is deprecated')
@pytest.mark.parametrize('where', ['first pivot', 'last pivot', 'off the diagonal', 'batch element'])
def test_cholesky_stops_at_a_nan_pivot(where):
    """A NaN pivot fails the factorization at its order, as LAPACK's potrf (NumPy's lets NaN through)."""
    nan = float('nan')
    A = {'first pivot': [[nan, 0.], [0., 1.]], 'last pivot': [[4., 1.], [1., nan]],
         'off the diagonal': [[1., nan], [nan, 4.]],
         'batch element': [[[1., 0.], [0., 1.]], [[2., 1.], [1., 2.]], [[1., 0.], [0., nan]]]}[where]
    run_both(lambda T: T.linalg.cholesky_ex(T.tensor(A)).info)
    for T in (torch, ember):
        for f, op in ((T.linalg.cholesky, 'linalg.cholesky'), (T.cholesky, 'cholesky')):
            with pytest.raises(T.linalg.LinAlgError) as got:
                f(T.tensor(A))
            assert str(got.value) == op + _NAN_PIVOT[where]


def test_cholesky_ex_info_finds_the_first_failing_minor():
    """info is the order of the first leading minor that is not positive-definite, wherever it lies."""
    def infos(T):
        out = []
        for k in range(6):
            A = T.eye(6, dtype=T.float64) * 2 + 0.5
            A[k, k] = -1.0
            out.append(T.linalg.cholesky_ex(A).info)
        return out + [T.linalg.cholesky_ex(T.eye(6) * 2 + 0.5).info]
    run_both(infos)


# -- pyro's constraint transforms (SigmoidTransform: biject_to(unit_interval), interval, StickBreaking) ------------
def test_sigmoid_rounds_as_pytorch():
    """sigmoid rounds exp(-x), the sum and the quotient to float32 as PyTorch's kernel does: bit for bit on tensors
    of fewer than 32 values (PyTorch's scalar tail, with glibc's expf), as pyro's scalar latents are, and on 0-d
    ones, but for a rare ulp of expf; rounding the exact value once differed there in a third of the values."""
    x = (np.random.default_rng(5).standard_normal(31 * 40) * 5).astype(np.float32)
    ours = np.concatenate([ember.sigmoid(ember.tensor(c)).numpy() for c in x.reshape(40, 31)])
    theirs = np.concatenate([torch.sigmoid(torch.tensor(c)).numpy() for c in x.reshape(40, 31)])
    # AVX2 PyTorch's loop takes 16-value blocks: only each row's last 15 are its scalar tail (3% of the first 16 differ)
    tail = slice(None) if pytorch_avx512() else (np.arange(x.size) % 31 >= 16)
    assert np.mean(ours[tail] != theirs[tail]) < 0.002   # 1 of 1240 (glibc's expf is not always correctly rounded)
    np.testing.assert_allclose(ours, theirs, rtol=2.4e-7, atol=0)
    assert [ember.sigmoid(ember.tensor(v)).item() for v in x[:200]] == [torch.sigmoid(torch.tensor(v)).item()
                                                                      for v in x[:200]]

    def transform(T):
        t = T.distributions.biject_to(T.distributions.constraints.interval(-1., 3.))
        u = T.tensor(x[:8], requires_grad=True)
        y = t(u)
        ld = t.log_abs_det_jacobian(u, y)
        (y.sum() + ld.sum()).backward()
        return [y.detach().numpy(), ld.detach().numpy(), u.grad.numpy()]
    for a, b in zip(transform(torch), transform(ember)):   # (log|det|: log 4 less two softpluses, ulps of ~1.4)
        np.testing.assert_allclose(b, a, rtol=3e-7, atol=5e-7)
    assert np.array_equal(transform(torch)[0], transform(ember)[0])


def test_softplus_rounds_as_pytorch():
    """softplus rounds exp(beta x) to float32 before log1p, as PyTorch's kernel (gpytorch's Positive constraint
    and pyro's SigmoidTransform log-det read it): the same float32 in 94% of a large tensor (95% with beta=2) where
    one rounding of the exact value agreed in 83%; inf where exp overflows under a raised threshold, as PyTorch."""
    x = (np.random.default_rng(6).standard_normal(100000) * 5).astype(np.float32)
    for beta, threshold in ((1.0, 20.0), (2.0, 5.0)):
        ours = ember.nn.functional.softplus(ember.tensor(x), beta, threshold).numpy()
        theirs = torch.nn.functional.softplus(torch.tensor(x), beta, threshold).numpy()
        assert np.mean(ours != theirs) < 0.065
        np.testing.assert_allclose(ours, theirs, rtol=3e-7, atol=0)
    run_both(lambda T: T.nn.functional.softplus(T.tensor([100., -200., float('nan'), float('inf'), -float('inf')]),
                                                threshold=200))


# -- pyro's Bernoulli(probs/logits).log_prob is -binary_cross_entropy_with_logits, i.e. log_sigmoid ------------------
def test_log_sigmoid_and_bce_with_logits_round_as_pytorch():
    """log_sigmoid is min(x, 0) - log1p(exp(-|x|)) with exp and log1p rounded to float32, and the BCE with logits
    loss (1 - t) x - log_sigmoid(x), as PyTorch's kernels round them: the same float32 in 95-97% of 100k random
    values where one rounding of the exact value agreed in 85-91%."""
    g = np.random.default_rng(7)
    x = (g.standard_normal(100000) * 5).astype(np.float32)
    t = (g.random(100000) > 0.5).astype(np.float32)
    pw = np.float32(2.5)
    for f, bound in ((lambda T: T.nn.functional.logsigmoid(T.tensor(x)), 0.06),
                     (lambda T: T.nn.functional.binary_cross_entropy_with_logits(T.tensor(x), T.tensor(t),
                                                                                 reduction='none'), 0.04),
                     (lambda T: T.nn.functional.binary_cross_entropy_with_logits(
                         T.tensor(x), T.tensor(t), reduction='none', pos_weight=T.tensor(pw)), 0.04)):
        ours, theirs = f(ember).numpy(), f(torch).numpy()
        assert np.mean(ours != theirs) < bound
        np.testing.assert_allclose(ours, theirs, rtol=5e-7, atol=1e-6)   # (cancellation: ulps of |x| ~ 20)
    run_both(lambda T: T.nn.functional.logsigmoid(T.tensor([-200., 200., float('nan'), float('inf'), -float('inf')])))


# -- pyro's Beta/Gamma/Dirichlet: lgamma's derivative is digamma (the intro's Beta guide), Dirichlet's entropy -------
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_digamma_computes_as_pytorch(dtype):
    """digamma by PyTorch's calc_digamma steps in the input's precision: the same values as PyTorch in 99.9% of
    random positive and negative inputs (float32 rounded once from float64 agreed in 31%), and its special values;
    lgamma's gradient is digamma, checked by finite differences."""
    g = np.random.default_rng(8)
    for x in ((np.abs(g.standard_normal(20000)) * 5 + 0.01).astype(dtype), (g.standard_normal(20000) * 5).astype(dtype)):
        ours, theirs = ember.digamma(ember.tensor(x)).numpy(), torch.digamma(torch.tensor(x)).numpy()
        assert np.mean(ours != theirs) < 0.003
        np.testing.assert_allclose(ours, theirs, rtol=3e-6 if dtype == 'float32' else 1e-13)
    special = [0., -0., -1., -2., float('nan'), float('inf'), -float('inf'), 10., 1e-30, 1e20, -0.5, -2.5, 1., 0.5]
    run_both(lambda T: T.digamma(T.tensor(special, dtype=getattr(T, dtype))), tol=0)
    a = ember.tensor([0.3, 2.5, 7.0, 12.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.lgamma, (a,))

    def lgamma_grad(T):
        v = T.tensor([15.0, 0.7, 3.3, 30.5, -2.5], dtype=getattr(T, dtype), requires_grad=True)
        T.lgamma(v).sum().backward()
        return v.grad
    run_both(lgamma_grad, tol=0)


def test_aliasing_survives_private_lookups_and_failed_installs(monkeypatch):
    """Under the alias, a private name looked up on a plain ember module (an fx GraphModule class's qualname,
    read while classes are given their torch module) is a plain AttributeError, not an import of a submodule;
    and an install that fails leaves aliasing off and ember named ember (a leaked install renamed ember for every
    later test of a worker)."""
    from ember import aliasing
    with aliasing.as_torch():
        import torch.fx   # noqa: F401 (its GraphModule classes carry private qualnames)
        with pytest.raises(AttributeError):
            ember.fx.graph_module._no_such_private
    assert not aliasing.is_installed() and ember.__name__ == 'ember'

    def broken():
        raise RuntimeError('boom')
    monkeypatch.setattr(aliasing, '_patch_spawn', broken)
    with pytest.raises(RuntimeError, match='boom'):
        aliasing.install()
    assert not aliasing.is_installed() and ember.__name__ == 'ember'
