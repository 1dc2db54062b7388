"""DeepXDE 1.15 (DDE_BACKEND=pytorch) and neuraloperator 2.0 under ``ember.aliasing.as_torch()`` (session 37): the
names and values their PINN and neural-operator examples reach, each reduced to the lines that found the defect and
checked against PyTorch. Neither library is needed here."""
import sys

import pytest
import torch

import ember
from helpers import run_both


# -- neuralop/layers/channel_mlp.py, skip_connections.py: Conv1d/Conv2d in a float64 model fed float32 -----------
@pytest.fixture(params=[1, 2])
def threads(request):
    """PyTorch's convolution picks its mkldnn path (other dtype checks and messages) by its thread count."""
    old = torch.get_num_threads(), ember.get_num_threads()
    torch.set_num_threads(request.param)
    ember.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(old[0])
    ember.set_num_threads(old[1])


@pytest.mark.parametrize('case', [
    ('conv1d', 'float', 'double', 'double'), ('conv2d', 'float', 'double', 'double'),
    ('conv3d', 'float', 'double', 'double'), ('conv2d', 'double', 'float', 'double'),
    ('conv1d', 'double', 'double', 'float'), ('conv1d', 'double', 'float', None),
    ('conv1d', 'bfloat16', 'bfloat16', 'float'), ('conv2d', 'cfloat', 'float', None),
    ('conv1d', 'float', 'cfloat', None), ('conv_transpose2d', 'double', 'float', None),
    ('conv_transpose1d', 'bfloat16', 'bfloat16', 'float'), ('conv1d', 'float', 'double', None),
    ('conv_transpose2d', 'float', 'float', 'double')])
def test_conv_dtype_errors_in_pytorchs_order(case, threads):
    """neuraloperator's FNO made under ``set_default_dtype(float64)`` and fed float32 data stops in a Conv1d with
    bias: PyTorch checks the bias before the weight ("Input type (float) and bias type (double) should be the
    same"), ember named the weight first. A float32 1x1 convolution on one thread skips mkldnn, whose messages
    (and refusal of a transposed convolution's other-dtype bias) differ."""
    op, xd, wd, bd = case
    nd = 3 if op == 'conv3d' else 1 if op.endswith('1d') else 2

    def conv(T):
        x = T.ones((2, 3) + (4,) * nd, dtype=getattr(T, xd))
        w = T.ones((3, 3) + (1,) * nd, dtype=getattr(T, wd))
        b = None if bd is None else T.ones(3, dtype=getattr(T, bd))
        return getattr(T.nn.functional, op)(x, w, b)
    run_both(conv, message=True)


def test_transposed_conv_casts_its_bias(threads):
    """A transposed convolution off the mkldnn path (here float64) takes a bias of another floating dtype (or an
    integer one): PyTorch casts it to the input's dtype, and the bias's gradient comes back in its own dtype."""
    def tconv(T):
        T.manual_seed(0)
        x = T.randn(2, 3, 5, 5, dtype=T.float64, requires_grad=True)
        w = T.randn(3, 4, 2, 2, dtype=T.float64, requires_grad=True)
        b = T.randn(4, requires_grad=True)
        y = T.nn.functional.conv_transpose2d(x, w, b, stride=2)
        y.pow(2).sum().backward()
        z = T.nn.functional.conv_transpose1d(x[:, :, 0], w[..., 0], T.tensor([1, 2, 3, 4]))
        return [y, y.dtype, y.grad_fn.name(), b.grad, b.grad.dtype, x.grad, w.grad, z, z.dtype]
    run_both(tconv, tol=1e-5)


# -- opt_einsum/backends/dispatch.py (tensorly-torch, neuraloperator's TFNO): the backend of an ember tensor ------
_DISPATCH = '''import importlib
_aliases = {"torch": "opt_einsum.backends.torch"}
def infer_backend(x):
    return x.__class__.__module__.split(".")[0]
def get_func(func, backend):
    return getattr(importlib.import_module(_aliases.get(backend, backend)), func)
'''


@pytest.fixture
def opt_einsum_dispatch(tmp_path, monkeypatch):
    """opt_einsum's backend lookup, its lines: a tensor's backend is its class's top module ('ember'), whose
    ``tensordot``/``transpose``/``einsum`` it calls with NumPy's signatures; imported after ember."""
    (tmp_path / 'opt_einsum' / 'backends').mkdir(parents=True)
    (tmp_path / 'opt_einsum' / '__init__.py').write_text('')
    (tmp_path / 'opt_einsum' / 'backends' / '__init__.py').write_text('')
    (tmp_path / 'opt_einsum' / 'backends' / 'dispatch.py').write_text(_DISPATCH)
    (tmp_path / 'opt_einsum' / 'parser.py').write_text('def convert_to_valid_einsum_chars(s):\n    return s\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for m in [m for m in sys.modules if m.split('.')[0] == 'opt_einsum']:
        monkeypatch.delitem(sys.modules, m)
    from ember import _opt_einsum
    _opt_einsum.install()       # what ``import ember`` did: a hook, unless an earlier test spent it
    import opt_einsum.backends.dispatch as dispatch
    yield dispatch
    for m in [m for m in sys.modules if m.split('.')[0] == 'opt_einsum']:
        del sys.modules[m]


def test_opt_einsum_calls_on_ember_tensors(opt_einsum_dispatch):
    """opt_einsum's ``_core_contract`` calls ``tensordot(x, y, axes=axes)`` and ``transpose(a, axes)`` of the
    tensor's backend: ember's gave "tensordot() got an unexpected keyword argument 'axes'" in TFNO's forward.
    PyTorch's tensors go to opt_einsum's torch backend: ``torch.tensordot(x, y, dims=axes)``, ``a.permute(*axes)``,
    ``torch.einsum(eq, operands)``."""
    d = opt_einsum_dispatch
    x, y = ember.randn(2, 3, 4), ember.randn(4, 3, 5)
    backend = d.infer_backend(x)
    assert backend == 'ember'
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    got = d.get_func('tensordot', backend)(x, y, axes=((1, 2), (1, 0)))
    torch.testing.assert_close(torch.from_numpy(got.numpy()), torch.tensordot(tx, ty, dims=((1, 2), (1, 0))))
    got = d.get_func('tensordot', backend)(x, y, axes=1)
    torch.testing.assert_close(torch.from_numpy(got.numpy()), torch.tensordot(tx, ty, dims=1))
    got = d.get_func('transpose', backend)(x, (2, 0, 1))
    assert torch.equal(torch.from_numpy(got.numpy()), tx.permute(2, 0, 1))
    got = d.get_func('einsum', backend)('abc,cbd->ad', x, y)
    torch.testing.assert_close(torch.from_numpy(got.numpy()), torch.einsum('abc,cbd->ad', tx, ty))


def test_opt_einsum_already_imported_gets_the_backend(opt_einsum_dispatch):
    """``import ember`` after opt_einsum (ember's install runs again here) maps the backend at once."""
    from ember import _opt_einsum
    opt_einsum_dispatch._aliases.pop('ember')   # the hook mapped it when the fixture imported it
    _opt_einsum.install()
    assert opt_einsum_dispatch._aliases['ember'] == 'ember._opt_einsum'


# -- tltorch/factorized_tensors (TFNO's complex Tucker weights): a reshape of a permuted complex tensor ---------
def test_complex_reshape_of_a_permuted_tensor_differentiates():
    """tensordot permutes and reshapes its operands; on TFNO's complex factors the reshape of a non-contiguous
    tensor (ReshapeAliasBackward0) refused complex gradients. Checked against PyTorch and by gradcheck."""
    def grads(T):
        T.manual_seed(0)
        a = T.randn(3, 4, 5, dtype=T.complex64, requires_grad=True)
        b = T.randn(4, 3, 2, dtype=T.complex64, requires_grad=True)
        out = T.tensordot(a, b, dims=((0, 1), (1, 0)))
        r = a.permute(2, 0, 1).reshape(5, 12)
        (out.abs().pow(2).sum() + (r * r.conj()).real.sum() + r.imag.sum()).backward()
        return [out, a.grad, b.grad]
    run_both(grads, tol=1e-5)
    a = ember.randn(3, 4, 5, dtype=ember.complex128, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: a.permute(2, 0, 1).reshape(5, 12).sin(), (a,))


# -- neuralop/layers/spectral_convolution.py: a float64 input against the complex64 weights (bmm/mv/baddbmm) ---
_D, _F = 'float64', 'float32'


@pytest.mark.parametrize('case', [
    ('bmm', (2, 3, 4), _D, (2, 4, 5), _F), ('bmm', (2, 3, 4), 'int32', (2, 4, 5), 'int64'),
    ('bmm', (2, 3, 4), 'bfloat16', (2, 4, 5), _F), ('bmm', (2, 3, 4), _D, (2, 3, 5), _F),
    ('matmul', (2, 3, 4), _F, (2, 4, 5), _D), ('matmul', (3, 4), _F, (2, 4, 3), _D), ('matmul', (4,), _D, (2, 4, 3), _F),
    ('matmul', (2, 2, 3, 4), _F, (2, 2, 4, 3), _D), ('matmul', (2, 3, 4), _F, (4, 3), _D),
    ('matmul', (3, 4), _D, (4,), _F), ('matmul', (2, 3, 4), _F, (4,), _D), ('matmul', (2, 3), 'bfloat16', (3, 2), _F),
    ('mv', (3, 4), _D, (4,), _F), ('mv', (3, 4), 'bfloat16', (4,), _F), ('matmul', (2, 3, 4), 'complex64', (2, 4, 5),
                                                                        'complex128')])
def test_product_dtype_errors(case):
    """FNO made float64 stops in its complex64 spectral weights' product. PyTorch's bmm says "expected scalar type
    Double but found Float" (matmul too, with a batch of matrices on the right), mv and matmul with a vector "addmv
    input tensors must have the same dtype, but got Float, Double, and Float"; ember gave mm's message for all,
    bfloat16 named "float"."""
    op, sa, da, sb, db = case
    run_both(lambda T: getattr(T, op)(T.ones(sa, dtype=getattr(T, da)), T.ones(sb, dtype=getattr(T, db))),
             message=True)


@pytest.mark.parametrize('dts', [(_D, _D, _F), (_F, _D, _D), (_D, _F, _F), (_F, _D, _F), (_F, _F, _F)])
def test_add_product_dtype_errors(dts):
    """baddbmm, addbmm and addmv refuse an input of another dtype than the matrices (ember promoted it)."""
    i, a, b = dts

    def prods(T):
        r = lambda *s, d: T.ones(*s, dtype=getattr(T, d))
        out = []
        for f in (lambda: T.baddbmm(r(2, 3, 5, d=i), r(2, 3, 4, d=a), r(2, 4, 5, d=b)),
                  lambda: T.addbmm(r(3, 5, d=i), r(2, 3, 4, d=a), r(2, 4, 5, d=b)),
                  lambda: T.addmv(r(3, d=i), r(3, 4, d=a), r(4, d=b))):
            try:
                out.append(f())
            except RuntimeError as e:
                out.append(str(e))
        return out
    run_both(prods)
