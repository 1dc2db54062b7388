"""Corners where ember gave a different answer than PyTorch without an error (issue 10): signed zeros that
print differently, the strides of empty results, the autograd record of sampling ops, normal(out=), Tensor's
protocol methods and matrix-transpose properties, hooks' return values. Each is compared with PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _same_bits(e, t):
    """Same values, dtype and signs of zero, and the same printed form."""
    en, tn = e.detach().numpy(), t.detach().numpy()
    assert en.dtype == tn.dtype and en.shape == tn.shape
    assert np.array_equal(en, tn, equal_nan=True) and np.array_equal(np.signbit(en), np.signbit(tn))
    assert repr(e) == repr(t)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n', [4, 5000, 8192, 20000])   # both sides of relu's size switch; 8192-value rows, a tail
def test_relu_keeps_negative_zero_and_nan(n, dtype):
    vals = np.resize(np.array([-0.0, 0.0, -1.0, np.nan, 2.0, -np.inf], dtype), n)
    for fn in (lambda L, x: L.relu(x), lambda L, x: L.nn.functional.relu(x), lambda L, x: x.relu(),
               lambda L, x: x.clone().relu_()):
        _same_bits(fn(ember, ember.tensor(vals)), fn(torch, torch.tensor(vals)))


def test_remainder_of_an_exact_multiple_has_the_dividends_sign():
    a, b = np.array([-2.0, 2.0, -3.0, 3.0, -0.0], np.float32), np.array([2.0, -2.0, 2.0, -2.0, 2.0], np.float32)
    for fn in (lambda L, x, y: x % y, lambda L, x, y: L.remainder(x, y), lambda L, x, y: x.clone().__imod__(y),
               lambda L, x, y: L.remainder(x, 2), lambda L, x, y: L.remainder(-4.0, y), lambda L, x, y: x[0] % 2):
        _same_bits(fn(ember, ember.tensor(a), ember.tensor(b)), fn(torch, torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize('make', [
    lambda L: L.zeros(0, 3).exp(), lambda L: L.zeros(0, 3) + 1, lambda L: L.zeros(0, 3).t().exp(),
    lambda L: L.zeros(3, 0).sum(0), lambda L: L.zeros(0, 3).sum(1), lambda L: L.zeros(2, 0, 3) * L.zeros(3),
    lambda L: L.zeros(0, 3).t(), lambda L: L.zeros(0, 1).expand(0, 3), lambda L: L.empty(0, 4)])
def test_empty_results_have_pytorchs_strides(make):
    e, t = make(ember), make(torch)
    assert e.shape == t.shape and e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()


def test_sampling_ops_record_what_pytorch_records():
    """bernoulli(input) and poisson(input) of an input that requires grad: a zero gradient; bernoulli(input, p):
    a node whose backward raises; no grad_fn in no_grad."""
    for lib in (torch, ember):
        lib.manual_seed(0)
    x = [lib.rand(3, 4, requires_grad=True) for lib in (torch, ember)]
    for fn in (lambda L, x: L.bernoulli(x), lambda L, x: x.bernoulli(), lambda L, x: L.poisson(x * 5)):
        t, e = fn(torch, x[0]), fn(ember, x[1])
        assert e.requires_grad and e.grad_fn.name() == t.grad_fn.name()
        e.sum().backward()
        assert np.array_equal(x[1].grad.numpy(), np.zeros((3, 4), np.float32))
        x[1].grad = None
    t, e = torch.bernoulli(x[0], 0.3), ember.bernoulli(x[1], 0.3)
    assert e.requires_grad and e.grad_fn.name() == t.grad_fn.name() == 'torch::autograd::NotImplemented'
    with pytest.raises(RuntimeError, match='derivative for aten::bernoulli is not implemented'):
        e.sum().backward()
    with ember.no_grad():
        assert not ember.bernoulli(x[1]).requires_grad and not ember.poisson(x[1]).requires_grad


@pytest.mark.parametrize('out_shape', [(0,), (2,), (2, 3), (3,)])
def test_normal_tensor_mean_out_is_filled_then_added_to(out_shape):
    """normal(Tensor, float, out=) draws into out's own shape, then adds mean: an empty or non-broadcasting out
    raises PyTorch's size error, a larger one broadcasts; the values are PyTorch's."""
    res = []
    for lib in (torch, ember):
        lib.manual_seed(3)
        mean = lib.arange(3, dtype=lib.float32)
        out = lib.empty(out_shape, dtype=lib.float64)
        try:
            res.append(lib.normal(mean, 2.0, out=out))
        except RuntimeError as err:
            res.append(err)
    t, e = res
    if isinstance(t, RuntimeError):
        assert isinstance(e, RuntimeError) and str(t) in str(e)
    else:
        _same_bits(e, t)


def test_contains_and_reversed():
    for lib in (torch, ember):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        assert 2.0 in x and 5 not in x and lib.tensor([1.0, 2.0]) in x
        with pytest.raises(RuntimeError, match='only supports Tensor or scalar'):
            'a' in x
    _same_bits(reversed(ember.tensor([[1.0, 2.0], [3.0, 4.0]])), reversed(torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
    _same_bits(reversed(ember.tensor(3.0)), reversed(torch.tensor(3.0)))


@pytest.mark.parametrize('attr', ['T', 'mT', 'H', 'mH'])
@pytest.mark.parametrize('shape', [(), (3,), (2, 3), (2, 3, 4)])
def test_matrix_transposes(attr, shape):
    """.H/.mH are .T/.mT for real tensors, with PyTorch's grad_fn and its errors and warnings by rank."""
    got = []
    for lib in (torch, ember):
        x = lib.arange(int(np.prod(shape)), dtype=lib.float32).reshape(shape).requires_grad_()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            try:
                y = getattr(x, attr)
                got.append((tuple(y.shape), y.grad_fn.name() if y.grad_fn else None, y.detach().numpy().tolist()))
            except RuntimeError as err:
                got.append(str(err))
        got[-1] = (got[-1], {str(m.message).split(' (Triggered internally')[0] for m in w})
    assert got[1][0] == got[0][0]
    assert got[0][1] <= got[1][1]   # PyTorch warns once per process, ember once per calling line


def test_post_accumulate_grad_hook_may_return_only_none_or_the_leaf():
    """PyTorch accepts None or the leaf itself (``p.add_(...)``, its docstring's example), refuses another
    tensor with a RuntimeError and a non-tensor with a TypeError."""
    for lib in (torch, ember):
        x = lib.ones(2, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2))
        with pytest.raises(RuntimeError, match='post accumulate grad hooks should return None'):
            (x * 3).sum().backward()
        y = lib.ones(2, requires_grad=True)
        y.register_post_accumulate_grad_hook(lambda p: 5)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            (y * 3).sum().backward()
    got = []
    for lib in (torch, ember):
        v = lib.tensor([0., 0., 0.], requires_grad=True)
        v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-0.01))
        v.backward(lib.tensor([1., 2., 3.]))
        got.append(v.detach().numpy())
    np.testing.assert_array_equal(got[1], got[0])


def test_asarray_copy_and_requires_grad_as_pytorch():
    got = []
    for lib in (torch, ember):
        a = lib.tensor([1., 2.], requires_grad=True)
        b = a * 2
        outs = [lib.asarray(b), lib.asarray(b, copy=True), lib.asarray(b, requires_grad=False),
                lib.asarray(b, copy=True, requires_grad=False), lib.asarray(b, dtype=lib.float64),
                lib.asarray(b, requires_grad=True)]
        row = [(o.requires_grad, o.grad_fn.name() if o.grad_fn else None, o is b) for o in outs]
        c = lib.tensor([1, 2, 3])
        row.append((lib.asarray(c).data_ptr() == c.data_ptr(), lib.asarray(c, copy=True).data_ptr() == c.data_ptr()))
        n = np.arange(3.0)
        kept, copied = lib.asarray(n), lib.asarray(n, copy=True)
        n[0] = 7
        row.append((kept.tolist(), copied.tolist()))
        with pytest.raises(ValueError) as err:
            lib.asarray(n, dtype=lib.float32, copy=False)
        row.append(str(err.value))
        got.append(row)
    assert got[1] == got[0]


def test_allclose_checks_dtype_and_broadcasting_as_pytorch():
    for lib in (torch, ember):
        assert lib.allclose(lib.ones(2), lib.ones(3, 2))
        with pytest.raises(RuntimeError, match='Float did not match Double'):
            lib.allclose(lib.ones(2), lib.ones(2, dtype=lib.float64))
        with pytest.raises(RuntimeError, match=r'The size of tensor a \(4\) must match the size of tensor b \(2\) '
                                               r'at non-singleton dimension 1'):
            lib.allclose(lib.ones(4), lib.ones(3, 2))


def test_typename_of_classes_functions_and_instances_as_pytorch():
    def local():
        pass
    got = [[lib.typename(o) for o in (lib.nn.Parameter, lib.nn.Linear, lib.nn.Linear(2, 2), len, 3, [1], local,
                                      lib.tensor([1.0]), lib.nn.Parameter(lib.ones(1)))]
           for lib in (torch, ember)]
    assert got[1] == got[0]


def test_empty_permuted_strides_and_errors_as_pytorch():
    got = []
    for lib in (torch, ember):
        x = lib.empty_permuted((2, 3, 5, 7), (0, 2, 3, 1), dtype=lib.float64, requires_grad=True)
        row = [x.stride(), tuple(x.shape), str(x.dtype), x.is_leaf, x.requires_grad,
               lib.empty_permuted((2, 0, 5), (2, 1, 0)).stride()]
        for size, order in (((2, 3), (0, 0)), ((2, 3), (0,))):
            with pytest.raises(RuntimeError) as err:
                lib.empty_permuted(size, order)
            row.append(str(err.value))
        got.append(row)
    assert got[1] == got[0]


def test_nonzero_static_truncates_and_pads_as_pytorch():
    got = []
    for lib in (torch, ember):
        x = lib.tensor([[0, 1], [2, 0]])
        outs = [lib.nonzero_static(x, size=1), lib.nonzero_static(x, size=4, fill_value=7), x.nonzero_static(size=0),
                lib.nonzero_static(lib.tensor(3.), size=2), lib.nonzero_static(lib.tensor([1, 0, 1]), size=3)]
        got.append([(str(o.dtype), tuple(o.shape), o.tolist()) for o in outs])
        with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
            lib.nonzero_static(x, size=-1)
    assert got[1] == got[0]


def test_assert_close_allow_subclasses_false_refuses_a_parameter_against_a_tensor():
    got = []
    for lib in (torch, ember):
        lib.testing.assert_close(lib.nn.Parameter(lib.ones(1)), lib.ones(1))
        row = []
        for a, b in ((lib.nn.Parameter(lib.ones(1)), lib.ones(1)), ([lib.ones(1)], [lib.nn.Parameter(lib.ones(1))])):
            with pytest.raises(TypeError) as err:
                lib.testing.assert_close(a, b, allow_subclasses=False)
            row.append(str(err.value))
        got.append(row)
    assert got[1] == got[0]


def test_assert_close_default_tolerances_for_complex():
    """complex64 uses float32's (1.3e-6, 1e-5), a Python complex complex128's: fft2 against two ffts passes."""
    for lib in (torch, ember):
        lib.manual_seed(0)
        x = lib.rand(10, 10, dtype=lib.complex64)
        lib.testing.assert_close(lib.fft.fft2(x), lib.fft.fft(lib.fft.fft(x, dim=0), dim=1))
        lib.testing.assert_close(1 + 1e-8j, 1 + 0j)
        with pytest.raises(AssertionError):
            lib.testing.assert_close(1 + 1e-6j, 1 + 0j)


def test_pin_memory_raises_as_on_pytorchs_cpu_build():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match='Cannot access accelerator device when none is available'):
            lib.zeros(3).pin_memory()
        assert not lib.zeros(3).is_pinned()


def test_no_torch_level_function_pytorch_lacks():
    """Tensor methods PyTorch has no torch-level function for are not ember-level functions either: code run
    as `import ember as torch` that calls torch.view(...) fails as on PyTorch."""
    for name in ('contiguous', 'copy_', 'expand', 'expand_as', 'linear', 'normal_', 'repeat', 'reshape_as', 'rsub_',
                 'to', 'type_as', 'uniform_', 'vector_norm', 'view', 'view_as'):
        assert not hasattr(torch, name) and not hasattr(ember, name), name
        assert hasattr(ember.Tensor, name) == hasattr(torch.Tensor, name), name


@pytest.mark.parametrize('case', ['getitem', 'setitem', 'index_put'])
def test_index_tensor_changed_in_place_before_backward(case):
    """An index tensor changed in place after indexing: backward raises PyTorch's error (ember once scattered by
    the changed values, a silently wrong gradient)."""
    msgs = []
    for L in (ember, torch):
        x = L.ones(4, requires_grad=True)
        m = L.tensor([True, False, True, False])
        if case == 'getitem':
            out = x[m]
        elif case == 'setitem':
            out = x * 1
            out[m] = L.tensor([5.0, 6.0])
        else:
            out = x.index_put((m,), L.tensor([5.0, 6.0]))
        m[1] = True
        with pytest.raises(RuntimeError) as e:
            out.sum().backward()
        msgs.append(str(e.value).split(' Hint')[0])
    assert msgs[0] == msgs[1]


_PUT_CASES = {
    'bool mask, 0-d value of another dtype (masked_fill casts)': lambda T, x: x.__setitem__(
        T.tensor([True, False, True, False]), T.tensor(3., dtype=T.float64)),
    'bool mask, 1-d value of another dtype': lambda T, x: x.__setitem__(
        T.tensor([True, False, True, False]), T.tensor([1., 2.], dtype=T.float64)),
    'bool mask, Python scalar': lambda T, x: x.__setitem__(T.tensor([True, False, True, False]), 3),
    'list index, 0-d value of another dtype': lambda T, x: x.__setitem__([0, 1], T.tensor(3., dtype=T.float64)),
    'tensor index, long value': lambda T, x: x.__setitem__(T.tensor([0, 1]), T.tensor([1, 2])),
    'int index, 0-d value of another dtype (copy casts)': lambda T, x: x.__setitem__(1, T.tensor(3, dtype=T.int64)),
    'slice, value of another dtype': lambda T, x: x.__setitem__(slice(0, 2), T.tensor([1., 2.], dtype=T.float64)),
    'slice and list': lambda T, x: x.view(2, 2).__setitem__((slice(None), [0]), T.tensor([[1.], [2.]], dtype=T.float64)),
    '0-d bool mask': lambda T, x: x.__setitem__(T.tensor(True), T.tensor(3., dtype=T.float64)),
    'index_put_': lambda T, x: x.index_put_((T.tensor([0, 1]),), T.tensor([1., 2.], dtype=T.float64)),
    'index_put_ with a mask and a 0-d value': lambda T, x: x.index_put_((T.tensor([True, False, True, False]),),
                                                                        T.tensor(3., dtype=T.float64)),
    'index_put accumulate': lambda T, x: T.index_put(x, (T.tensor([0, 1]),), T.tensor([1, 2]), accumulate=True),
}


@pytest.mark.parametrize('case', list(_PUT_CASES))
def test_index_put_of_another_dtype_refused_as_pytorch(case):
    """x[advanced] = v (index_put_) needs v of x's dtype in PyTorch; a bool mask with a 0-d value (masked_fill),
    Python scalars and basic indexing (copy_) cast."""
    out = []
    for T in (torch, ember):
        x = T.zeros(4)
        try:
            _PUT_CASES[case](T, x)
            out.append(('ok', x.tolist()))
        except RuntimeError as e:
            out.append(('error', str(e)))
    assert out[1] == out[0]
