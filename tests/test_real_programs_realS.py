"""Real PyTorch programs under the alias against PyTorch (session 48, lane realS): pure-PyTorch libraries' own test
suites run under the alias (linear_operator, torchdiffeq, einops, entmax); each defect found is reduced here to the
lines that found it (the libraries themselves are not needed)."""
import pytest

from helpers import run_both


def _coo(lib, dense_dims=0, dtype=None, dims=3):
    """A (2, 2, 3) COO tensor (``dims=2``: its last (2, 3) matrix), its last ``dense_dims`` dims dense
    (linear_operator's test_dsmm batch matrix)."""
    i = lib.tensor([[0, 0, 0, 1, 1, 1], [0, 1, 1, 0, 1, 1], [2, 0, 2, 2, 0, 2]])[3 - dims:]
    shape = (2, 2, 3)[3 - dims:]
    n = dims - dense_dims
    vals = lib.arange(1., 7.).reshape((6,) + (1,) * dense_dims).expand((6,) + shape[n:]).contiguous()
    return lib.sparse_coo_tensor(i[:n], vals.to(dtype or lib.float32), shape)


def _parts(t):
    """A sparse tensor as comparable data: layout, shape, coalesced flag, indices, values, grad_fn name."""
    return (str(t.layout), tuple(t.shape), t.is_coalesced(), t._indices().tolist(), t._values().tolist(),
            None if t.grad_fn is None else t.grad_fn.name())


# -- linear_operator's bdsmm takes `sparse.mT` (DSMM.backward) and reads its `_indices()`: mT and the other transposes
# of a COO tensor went dense ('Tensor' object has no attribute '_indices'); they keep the layout as PyTorch's.
@pytest.mark.parametrize('expr', ['s.mT', 's.mH', 's.adjoint()', 's.swapaxes(1, 2)', 's.swapdims(0, 2)', 's.T',
                                  's.permute(2, 0, 1)', 's.permute(dims=(1, 0, 2))', 's.transpose(-1, -2)',
                                  's.transpose(0, 0)', 'lib.transpose(s, 1, 2)', 'lib.swapaxes(s, 0, 1)',
                                  'lib.permute(s, (0, 2, 1))', 'lib.adjoint(s)', 'lib.t(m)', 'm.t()', 'm.T', 'm.H',
                                  'm.mT', 'lib.permute(s, (0, 1, 2))', 's.permute(-3, 2, 1)'])
@pytest.mark.parametrize('grad', [False, True])
@pytest.mark.parametrize('coalesced', [False, True])
def test_sparse_transposes_keep_layout(expr, grad, coalesced):
    def fn(lib):
        s, m = _coo(lib), _coo(lib, dims=2)
        s, m = (s.coalesce(), m.coalesce()) if coalesced else (s, m)
        s.requires_grad_(grad), m.requires_grad_(grad)
        return _parts(eval(expr, {'s': s, 'm': m, 'lib': lib}))
    run_both(fn)


@pytest.mark.parametrize('expr', ['s.permute(0, 2, 1)', 's.permute(1, 0, 2)', 's.permute(2, 0, 1)', 's.mT',
                                  's.transpose(1, 2)', 's.transpose(0, 1)'])
@pytest.mark.parametrize('dense_dims', [1, 2])
def test_sparse_permute_dense_dims(expr, dense_dims):
    """Dense dims permute among themselves (the values' axes); moving one past a sparse dim, or transposing a dense
    dim, raises PyTorch's error."""
    run_both(lambda lib: _parts(eval(expr, {'s': _coo(lib, dense_dims).coalesce()})), message=True)


@pytest.mark.parametrize('expr', ['v.mT', 'v.H', 's.H', 's.permute(0, 1)', 's.permute(0, 0, 1)', 'lib.adjoint(v)',
                                  's.transpose(0, 5)', 'lib.t(s)', 'v.T', 'v.t()'])
def test_sparse_transpose_errors(expr):
    def fn(lib):
        v = lib.sparse_coo_tensor(lib.tensor([[0, 2]]), lib.tensor([1., 2.]), (3,))
        return _parts(eval(expr, {'s': _coo(lib), 'v': v, 'lib': lib}))
    run_both(fn, message=True)


@pytest.mark.parametrize('expr', ['s.mT', 's.permute(2, 0, 1)', 's.T', 's.mH', 'lib.swapdims(s, 0, 2)'])
def test_sparse_transpose_gradients(expr):
    """DSMM.backward's path: the gradient through a sparse transpose or permute comes back to the sparse leaf."""
    def fn(lib):
        s = _coo(lib, dtype=lib.float64).requires_grad_()
        lib.manual_seed(0)
        t = eval(expr, {'s': s, 'lib': lib})
        w = lib.arange(float(t.numel()), dtype=lib.float64).reshape(t.shape)
        (t.to_dense() * w).sum().backward()
        return str(s.grad.layout), s.grad.to_dense()
    run_both(fn)


@pytest.mark.parametrize('expr', ['s.mH', 's.adjoint()', 's.conj()', 'lib.conj(s)', 'lib.conj_physical(s)',
                                  's.conj_physical()', 'm.H', 's.mT'])
def test_sparse_complex_conjugates(expr):
    """Complex sparse tensors: mH, adjoint and conj conjugate the values (PyTorch has no lazy sparse conjugate)."""
    def fn(lib):
        s = (_coo(lib, dtype=lib.complex64) * (1 + 2j)).requires_grad_()
        m = (_coo(lib, dtype=lib.complex64, dims=2) * (1 - 1j)).requires_grad_()
        t = eval(expr, {'s': s, 'm': m, 'lib': lib})
        return _parts(t) + (t.is_conj(),)
    run_both(fn)


def test_sparse_real_conj_is_itself():
    def fn(lib):
        s = _coo(lib)
        return s.conj() is s, s.conj_physical() is s, lib.conj(s) is s, lib.conj_physical(s) is s
    run_both(fn)


@pytest.mark.parametrize('dtypes', [('float32', 'float64'), ('complex64', 'complex128'), ('float64', 'complex64')])
def test_sparse_mm_dtype_mismatch_names(dtypes):
    """torch.sparse.mm of mismatched dtypes names them as PyTorch's kernels do (ComplexFloat, not torch.complex64)."""
    def fn(lib):
        s = _coo(lib, dtype=getattr(lib, dtypes[0]), dims=2)
        return lib.sparse.mm(s, lib.ones(3, 2, dtype=getattr(lib, dtypes[1])))
    run_both(fn, message=True)


# -- linear_operator's operator tests compare `dense.matmul(rhs)` with rhs a DiagLinearOperator (a Tensor-like, not a
# Tensor subclass, registering torch.Tensor.matmul for its second argument): ember's matmul raised its TypeError
# where PyTorch asks the Tensor-like's __torch_function__ (as ember's binary pointwise ops already did).
@pytest.mark.parametrize('expr', ['t.matmul(like)', 't @ like', 'like2 @ t', 't.matmul(like2)'])
def test_tensor_like_second_operand_matmul(expr):
    def fn(lib):
        class Like:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func is not lib.Tensor.matmul:
                    return NotImplemented
                return 'handled', [type(a).__name__ for a in args], args[0].shape

        class Declines:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented

            def __rmatmul__(self, other):
                return 'rmatmul', tuple(other.shape)

        t = lib.ones(2, 3)
        return eval(expr, {'t': t, 'like': Like(), 'like2': Declines()})
    run_both(fn, message=True)
