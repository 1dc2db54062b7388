"""The Tensor API against PyTorch: creation, dtypes, attributes and conversions, type promotion and
broadcasting (hypothesis), in-place ops and autograd, views that share memory, and error conditions."""
import operator
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings, strategies as st

import ember
from helpers import assert_same

LIBS = (torch, ember)


def plain(x):
    """A library-neutral picture of a result: tensors, dtypes, sizes and devices become plain data."""
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return ('tensor', repr(x.dtype), tuple(x.shape), x.detach().tolist(), x.requires_grad)
    if isinstance(x, (torch.Size, ember.Size)):
        return ('Size', tuple(x))
    if isinstance(x, (torch.dtype, ember.dtype, torch.device, ember.device)):
        return repr(x)
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return ('ndarray', x.dtype.name, x.tolist())
    return x


def same(fn):
    """``fn(torch)`` and ``fn(ember)`` give the same result (exact values, dtypes, shapes)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t, e = plain(fn(torch)), plain(fn(ember))
    assert e == t, f'ember {e} != torch {t}'
    return e


def _builtin(exc):
    return next(c for c in type(exc).__mro__ if c.__module__ == 'builtins')


def raises_like(fn, *words):
    """``fn`` raises the same kind of exception on both; ember's message contains ``words``."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(Exception) as t:
            fn(torch)
        with pytest.raises(Exception) as e:
            fn(ember)
    assert _builtin(e.value) is _builtin(t.value), f'ember raised {e.value!r}, torch {t.value!r}'
    for w in words:
        assert w in str(e.value), f'{w!r} not in ember message {str(e.value)!r}'
    return str(e.value), str(t.value)


def same_message(fn):
    """Both raise the same exception type with the same message."""
    e, t = raises_like(fn)
    assert e == t


@pytest.fixture
def restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


NP_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]
DTYPE_NAMES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool', 'half',
               'float', 'double', 'short', 'int', 'long']


# -- creation ---------------------------------------------------------------------------------------------
CREATE = {
    'ints': lambda T: T.tensor([[1, 2], [3, 4]]),
    'floats': lambda T: T.tensor([[1.5, -2.0], [0.1, 1e-8]]),
    'bools': lambda T: T.tensor([True, False]),
    'int_float': lambda T: T.tensor([1, 2.5]),
    'bool_int': lambda T: T.tensor([True, 1]),
    'bool_float': lambda T: T.tensor([[True], [1.5]]),
    'tuple': lambda T: T.tensor((1, 2.5)),
    'range': lambda T: T.tensor(range(4)),
    'zero_d_int': lambda T: T.tensor(3),
    'zero_d_float': lambda T: T.tensor(3.5),
    'zero_d_bool': lambda T: T.tensor(True),
    'empty': lambda T: T.tensor([]),
    'empty_nested': lambda T: T.tensor([[], []]),
    'empty_int': lambda T: T.tensor([], dtype=T.int64),
    'dtype': lambda T: T.tensor([1, 2], dtype=T.float64),
    'dtype_truncates': lambda T: T.tensor([1.7, -2.7], dtype=T.int32),
    'dtype_bool': lambda T: T.tensor([0, 2], dtype=T.bool),
    'requires_grad': lambda T: T.tensor([1., 2.], requires_grad=True),
    'np_scalars': lambda T: T.tensor([np.float64(1.5), 2]),
    'np_int32_scalars': lambda T: T.tensor([np.int32(1), np.int32(2)]),
    'np_mixed_scalars': lambda T: T.tensor([np.int32(1), np.int8(2)]),
    'np_scalar': lambda T: T.tensor(np.float64(1.5)),
    'np_arrays': lambda T: T.tensor([np.array([1., 2.]), np.array([3., 4.])]),
    'zero_d_tensors': lambda T: T.tensor([T.tensor(1.), T.tensor(2.)]),
    'one_elem_tensors': lambda T: T.tensor([T.tensor([1]), T.tensor([2])]),
    'int64_max': lambda T: T.tensor([2 ** 63 - 1, -2 ** 63]),
    'big_int_float': lambda T: T.tensor([2 ** 64, 1.5]),
    'as_tensor_list': lambda T: T.as_tensor([1, 2.5]),
    'as_tensor_scalar': lambda T: T.as_tensor(3),
    'as_tensor_dtype': lambda T: T.as_tensor([1, 2], dtype=T.float16),
    'zeros': lambda T: T.zeros(2, 3),
    'zeros_tuple': lambda T: T.zeros((2, 3), dtype=T.int32),
    'zeros_size': lambda T: T.zeros(T.Size([2, 1])),
    'zeros_0d': lambda T: T.zeros(()),
    'zeros_empty': lambda T: T.zeros(0, 3),
    'ones': lambda T: T.ones(3, dtype=T.bool),
    'ones_list': lambda T: T.ones([2]),
    'full_int': lambda T: T.full((2,), 3),
    'full_float': lambda T: T.full((2, 1), 3.5),
    'full_bool': lambda T: T.full((2,), True),
    'full_dtype': lambda T: T.full((2,), 3, dtype=T.float64),
    'empty_shape': lambda T: (T.empty(2, 3).shape, T.empty(2, 3).dtype, T.empty(0).shape),
    'eye': lambda T: T.eye(3),
    'eye_rect': lambda T: T.eye(2, 3, dtype=T.int64),
    'arange': lambda T: T.arange(5),
    'arange_start_step': lambda T: T.arange(1, 10, 3),
    'arange_neg_step': lambda T: T.arange(5, 0, -1),
    'arange_neg_float_step': lambda T: T.arange(1, 0, -0.3),
    'arange_float': lambda T: T.arange(0, 1, 0.25),
    'arange_float_end': lambda T: T.arange(2.5),
    'arange_crosses_zero': lambda T: T.arange(-1, 1, 0.1),
    'arange_long': lambda T: T.arange(-3, 7, 0.013),
    'arange_double': lambda T: T.arange(-1, 2, 0.07, dtype=T.float64),
    'arange_dtype': lambda T: T.arange(5, dtype=T.float32),
    'arange_empty': lambda T: T.arange(3, 3),
    'arange_tensor': lambda T: T.arange(T.tensor(3)),
    'linspace': lambda T: T.linspace(0, 1, 5),
    'linspace_odd': lambda T: T.linspace(-3.3, 7.1, 101),
    'linspace_double': lambda T: T.linspace(-3.3, 7.1, 37, dtype=T.float64),
    'linspace_int': lambda T: T.linspace(9.06, 0.5, 17, dtype=T.int64),
    'linspace_one': lambda T: T.linspace(2, 3, 1),
    'linspace_zero': lambda T: T.linspace(2, 3, 0),
    'zeros_like': lambda T: T.zeros_like(T.tensor([1, 2])),
    'ones_like': lambda T: T.ones_like(T.tensor([1., 2.]), dtype=T.float64),
    'full_like': lambda T: T.full_like(T.tensor([1, 2]), 2.7),
    'full_like_float': lambda T: T.full_like(T.tensor([[1., 2.]]), 2),
    'empty_like': lambda T: T.empty_like(T.tensor([[1, 2]])).shape,
    'like_requires_grad': lambda T: T.zeros_like(T.ones(2), requires_grad=True),
    'zeros_requires_grad': lambda T: T.zeros(2, requires_grad=True),
    'rand': lambda T: [(x.shape, x.dtype) for x in (T.rand(2, 3), T.rand((4,)), T.rand(2, dtype=T.float64))],
    'randn': lambda T: [(x.shape, x.dtype) for x in (T.randn(2, 3), T.randn(()), T.randn(4, dtype=T.float64))],
    'randint': lambda T: [(x.shape, x.dtype) for x in (T.randint(5, (3,)), T.randint(2, 5, (2, 2)),
                                                         T.randint(0, 5, (3,), dtype=T.int32))],
    'randint_range': lambda T: bool(((T.randint(2, 5, (100,)) >= 2) & (T.randint(2, 5, (100,)) < 5)).all()),
    'randperm': lambda T: (T.randperm(6).dtype, sorted(T.randperm(6).tolist()), T.randperm(3, dtype=T.float32).dtype),
    'rand_like': lambda T: (T.rand_like(T.zeros(2, dtype=T.float64)).dtype, T.randn_like(T.zeros(2, 1)).shape),
    'rand_range': lambda T: bool(((T.rand(1000) >= 0) & (T.rand(1000) < 1)).all()),
    'randn_requires_grad': lambda T: T.randn(2, requires_grad=True).requires_grad,
}


@pytest.mark.parametrize('name', CREATE)
def test_creation_matches_torch(name):
    same(CREATE[name])


@pytest.mark.parametrize('np_dtype', NP_DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensor_from_numpy_array_of_every_dtype(np_dtype):
    arr = np.array([[0, 1, 2], [3, 4, 5]]).astype(np_dtype)
    for make in (lambda T: T.tensor(arr), lambda T: T.as_tensor(arr), lambda T: T.from_numpy(arr),
                 lambda T: T.tensor(arr[0, 1]), lambda T: T.tensor(arr[0])):
        same(make)


def test_from_numpy_and_as_tensor_share_memory():
    for lib in LIBS:
        a = np.zeros(3, np.float32)
        t = lib.from_numpy(a)
        u = lib.as_tensor(a)
        a[0] = 5
        t[1] = 7
        u.add_(1)
        assert a.tolist() == t.tolist() == u.tolist() == [6.0, 8.0, 1.0]
        c = lib.tensor(a)
        a[2] = -1
        assert c.tolist() == [6.0, 8.0, 1.0]
        f = lib.as_tensor(a, dtype=lib.float64)
        a[0] = 0
        assert f.tolist()[0] == 6.0
        x = lib.ones(2)
        assert lib.as_tensor(x) is x


def test_numpy_and_asarray_share_memory():
    for lib in LIBS:
        t = lib.zeros(2, 2)
        n = t.numpy()
        n[0, 0] = 3
        np.asarray(t)[1, 1] = 4
        t[0, 1] = 5
        assert t.tolist() == n.tolist() == [[3.0, 5.0], [0.0, 4.0]]
        assert np.asarray(t, dtype=np.int64).dtype == np.int64


def test_manual_seed_reproducible():
    for sample in (lambda: ember.rand(5), lambda: ember.randn(2, 3), lambda: ember.randint(0, 100, (6,)),
                   lambda: ember.randperm(10), lambda: ember.empty(4).uniform_(-1, 1),
                   lambda: ember.empty(4).normal_(2, 3)):
        ember.manual_seed(1234)
        a = sample()
        ember.manual_seed(1234)
        b = sample()
        ember.manual_seed(4321)
        c = sample()
        assert a.tolist() == b.tolist()
        assert a.tolist() != c.tolist()
    assert isinstance(ember.manual_seed(0), ember.Generator)


def test_default_dtype(restore_default_dtype):
    same(lambda T: T.get_default_dtype())
    for lib in LIBS:
        lib.set_default_dtype(lib.float64)
    same(lambda T: (T.get_default_dtype(), T.tensor([1.5]), T.tensor(2), T.zeros(1), T.arange(0, 1, 0.5),
                    T.ones(2) + 1.5, T.tensor([1, 2]) / 2, T.rand(2).dtype, T.linspace(0, 1, 3)))
    raises_like(lambda T: T.set_default_dtype(T.int64))


# -- dtypes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', DTYPE_NAMES)
def test_dtype_attributes(name):
    same(lambda T: (repr(getattr(T, name)), str(getattr(T, name)), getattr(T, name).is_floating_point,
                    getattr(T, name).itemsize, getattr(T, name).is_signed, getattr(T, name).is_complex))
    same(lambda T: (lambda x: (x.dtype, x.type(), x.is_floating_point(), x.element_size(), x.itemsize,
                               x.is_signed(), x.dtype == getattr(T, name)))(T.ones(2, dtype=getattr(T, name))))


LEGACY = ['FloatTensor', 'DoubleTensor', 'LongTensor', 'IntTensor', 'BoolTensor', 'ByteTensor', 'HalfTensor',
          'ShortTensor', 'CharTensor']


@pytest.mark.parametrize('name', LEGACY)
def test_legacy_tensor_types(name):
    same(lambda T: getattr(T, name)([1, 0, 2]))
    same(lambda T: getattr(T, name)((3, 4)))
    same(lambda T: (getattr(T, name)(2, 3).shape, getattr(T, name)(2, 3).dtype, getattr(T, name)().shape))
    same(lambda T: T.tensor([1.5, 0.]).type(getattr(T, name)))
    same(lambda T: T.tensor([1.5, 0.]).type('torch.' + name))
    same(lambda T: [isinstance(T.ones(1, dtype=d), getattr(T, name))
                    for d in (T.float32, T.float64, T.int64, T.int32, T.bool, T.uint8, T.float16)])
    same(lambda T: isinstance(getattr(T, name)([1]), T.Tensor))


def test_type_names_and_casts():
    same(lambda T: (T.ones(1).type(), T.ones(1, dtype=T.int64).type(), T.Tensor([1, 2]), T.Tensor(2, 3).shape,
                    T.Tensor().shape, T.tensor([1.7]).type(T.int64), T.is_tensor(T.ones(1)), T.is_tensor(1)))
    same(lambda T: (T.promote_types(T.int8, T.uint8), T.promote_types(T.float16, T.int64),
                    T.promote_types(T.bool, T.int8), T.can_cast(T.float32, T.int64), T.can_cast(T.int64, T.float16),
                    T.float32 == T.float, T.int64 == T.long, T.float32 == T.float64, len({T.float32, T.float})))


# -- attributes and conversions ----------------------------------------------------------------------------
def X(T):
    return T.arange(6.).reshape(2, 3)


ATTRS = {
    'shape': lambda T: (X(T).shape, X(T).size(), X(T).size(1), X(T).size(-1), X(T).dim(), X(T).ndim,
                        X(T).numel(), X(T).dtype, X(T).ndimension(), X(T).nelement(), T.numel(X(T))),
    'device': lambda T: (X(T).device, str(X(T).device), X(T).device.type, X(T).device.index, X(T).is_cuda,
                         X(T).get_device()),
    'device_objects': lambda T: (T.device('cpu'), T.device('cuda:1'), T.device('cuda', 0), str(T.device('cuda', 0)),
                                 T.device('cpu') == T.device('cpu'), T.device('cpu') == 'cpu',
                                 hash(T.device('cpu')) == hash(T.device('cpu'))),
    'to_cpu': lambda T: (lambda x: (x.to('cpu') is x, x.to(T.device('cpu')) is x, x.cpu() is x,
                                    x.to(T.float32) is x, x.to('cpu', copy=True) is x))(X(T)),
    'to_dtype': lambda T: (X(T).to(T.int64), X(T).to('cpu', T.float64), X(T).to(T.ones(1, dtype=T.int32)),
                           X(T).to(dtype=T.float16, device='cpu')),
    'leaf': lambda T: (lambda x: (x.requires_grad, x.is_leaf, x.grad_fn, x.grad))(X(T)),
    'leaf_grad': lambda T: (lambda x: (x.requires_grad, x.is_leaf, x.grad_fn, (x * 2).is_leaf,
                                       (x * 2).requires_grad, (x * 2).grad_fn.name()))(T.ones(2, requires_grad=True)),
    'data': lambda T: (lambda x: (x.data.requires_grad, x.data.is_leaf, x.data.tolist()))(
        T.ones(2, requires_grad=True) * 2),
    'data_set': lambda T: (lambda x: (setattr(x, 'data', T.zeros(3, 2)), x, x.is_leaf)[1:])(
        T.ones(2, requires_grad=True)),
    'data_set_dtype': lambda T: (lambda x: (setattr(x, 'data', T.zeros(3, dtype=T.float64)), x.dtype)[1:])(
        T.ones(2, requires_grad=True)),
    'detach': lambda T: (lambda x: (x.detach(), x.detach().is_leaf, x.clone().requires_grad,
                                    x.clone().is_leaf))(T.ones(2, requires_grad=True) * 2),
    'T': lambda T: (X(T).T, T.ones(2, 3, 4).T.shape, T.ones(2).T),
    'mT': lambda T: (X(T).mT, T.ones(2, 3, 4).mT.shape),
    'item': lambda T: (T.tensor(2.5).item(), T.tensor([3]).item(), T.tensor([[True]]).item(),
                       type(T.tensor(2).item()).__name__, type(T.tensor(2.5, dtype=T.float16).item()).__name__),
    'tolist': lambda T: (X(T).tolist(), T.tensor(3).tolist(), T.tensor([True]).tolist(),
                         type(T.tensor([1.5], dtype=T.float16).tolist()[0]).__name__, T.ones(0, 2).tolist()),
    'numpy': lambda T: (lambda a: (a.dtype.name, a.shape, a.tolist()))(X(T).numpy()),
    'numpy_force': lambda T: T.ones(2, requires_grad=True).numpy(force=True),
    'asarray': lambda T: np.asarray(X(T)),
    'len': lambda T: (len(X(T)), len(T.ones(0, 3))),
    'iter': lambda T: ([r for r in X(T)], [type(v).__name__ for v in T.ones(2)], list(T.tensor([1, 2]))),
    'bool': lambda T: (bool(T.tensor([1])), bool(T.tensor(0.)), bool(T.tensor([[False]])), not T.tensor(0)),
    'int_float': lambda T: (int(T.tensor(2.7)), int(T.tensor([-2.7])), float(T.tensor(3)), float(T.tensor([True])),
                            complex(T.tensor(1.5))),
    'index': lambda T: ([10, 20, 30][T.tensor(1)], [10, 20, 30][T.tensor([2])], range(5)[T.tensor(3)],
                        hex(T.tensor(255)), [1, 2, 3][T.tensor(0):T.tensor(2)]),
    'format': lambda T: (f'{T.tensor(3.14159):.3f}', f'{T.tensor(3):d}', f'{T.tensor(3):5}', f'{T.tensor(2.5)}',
                         f'{T.tensor([2.5])}', format(T.ones(2), '')),
    'hash': lambda T: (lambda x: (hash(x) == id(x), len({x, x}), len({x, x.clone()}), {x: 1}[x]))(X(T)),
    'contains': lambda T: (2 in T.tensor([1, 2]), 5 in T.tensor([1, 2])),
    'size': lambda T: (T.Size([2, 3]), repr(T.Size([2, 3])), str(T.Size([2, 3])), T.Size([2, 3]).numel(),
                       T.Size([]).numel(), T.Size([2, 3, 4])[1:], T.Size([2, 3])[0], T.Size([2, 3]) == (2, 3),
                       T.Size([2]) + (3,), (1,) + T.Size([2]), T.Size([2]) * 2, 2 * T.Size([2]),
                       T.Size([2, 3])[::-1], isinstance(T.Size([1]), tuple), repr(T.Size([])),
                       hash(T.Size([2, 3])) == hash((2, 3)), T.Size([2, 3, 2]).count(2), T.Size([2, 3]).index(3)),
    'contiguity': lambda T: (X(T).is_contiguous(), X(T).t().is_contiguous(), X(T).t().contiguous().is_contiguous(),
                             X(T).stride(), X(T).t().stride(), X(T).stride(1), T.tensor(1.).stride()),
    'data_ptr': lambda T: (lambda x: (x.data_ptr() == x.view(6).data_ptr(), x[1].data_ptr() - x.data_ptr()))(X(T)),
    'bytes': lambda T: (X(T).element_size(), X(T).nbytes, X(T).itemsize, X(T).dtype.itemsize),
    'new_factories': lambda T: (lambda x: (x.new_tensor([1, 2]), x.new_zeros((2, 3)), x.new_ones(2, 3),
                                           x.new_full((2,), 7), x.new_empty(3).shape))(T.ones(2, dtype=T.int32)),
    'requires_grad_setter': lambda T: (lambda x: (setattr(x, 'requires_grad', True), x.requires_grad,
                                                  x.requires_grad_(False).requires_grad))(T.ones(2)),
    'cuda': lambda T: (T.cuda.is_available(), T.cuda.device_count(), isinstance(T.__version__, str)),
    'variable': lambda T: (lambda v: (v, type(v).__name__, v.is_leaf))(
        T.autograd.Variable(T.ones(2), requires_grad=True)),
    'variable_plain': lambda T: (lambda v: (v.requires_grad, v.is_leaf))(T.autograd.Variable(T.ones(2))),
    'version': lambda T: (lambda x: (x._version, x.add_(1)._version, x[0]._version, x.view(4)._version,
                                     x.detach()._version, x.data._version))(T.ones(2, 2)),
    'version_shared': lambda T: (lambda x: (x[0].add_(1), x.detach().mul_(2), x._version, x.data.add_(1),
                                            x._version)[2:])(T.ones(2, 2)),
}


@pytest.mark.parametrize('name', ATTRS)
def test_attributes_match_torch(name):
    same(ATTRS[name])


def test_numpy_of_tensor_requiring_grad():
    same_message(lambda T: T.ones(2, requires_grad=True).numpy())
    same_message(lambda T: (T.ones(2, requires_grad=True) * 2).numpy())
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            assert x.numpy().tolist() == [1.0, 1.0]
        assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_seed004_weight_data_assignment():
    """``m.weight.data = w.clone().unsqueeze(0)`` replaces a parameter's values in place of its array."""
    def run(T):
        m = T.nn.Linear(2, 1)
        m.weight.data = T.tensor([0.5, -1.0]).clone().unsqueeze(0)
        m.bias.data = T.tensor([0.25]).clone()
        out = m(T.tensor([[1.0, 2.0]]))
        out.sum().backward()
        return m.weight, m.weight.is_leaf, m.weight.requires_grad, out, m.weight.grad, m.bias.grad
    same(run)


CONVERSION_ERRORS = {
    'len_0d': (lambda T: len(T.tensor(1.)), ()),
    'iter_0d': (lambda T: list(T.tensor(1.)), ()),
    'bool_many': (lambda T: bool(T.ones(2)), ('ambiguous',)),
    'bool_empty': (lambda T: bool(T.ones(0)), ('ambiguous',)),
    'int_many': (lambda T: int(T.ones(2)), ()),
    'float_many': (lambda T: float(T.ones(2)), ()),
    'index_float': (lambda T: [10, 20][T.tensor(1.)], ()),
    'index_many': (lambda T: [10, 20][T.tensor([0, 1])], ()),
    'format_many': (lambda T: f'{T.ones(2):.3f}', ()),
    'format_one_elem': (lambda T: f'{T.tensor([2.5]):.2f}', ()),
    'item_many': (lambda T: T.ones(2, 3).item(), ('6 elements',)),
    'item_empty': (lambda T: T.ones(0).item(), ('0 elements',)),
    'size_0d': (lambda T: T.tensor(1.).size(0), ('no dimensions',)),
    'size_bad_dim': (lambda T: X(T).size(2), ('range', '2')),
    'stride_0d': (lambda T: T.tensor(1.).stride(0), ('no dimensions',)),
    'bad_device': (lambda T: T.device('gpu'), ('gpu',)),
    'data_set_list': (lambda T: setattr(T.ones(2), 'data', [1.]), ('list',)),
    'grad_set_shape': (lambda T: setattr(T.ones(2, requires_grad=True), 'grad', T.ones(3)), ('[3]', '[2]')),
    'requires_grad_int': (lambda T: T.ones(2, dtype=T.int64).requires_grad_(), ('floating point',)),
    'requires_grad_int_factory': (lambda T: T.ones(2, dtype=T.int64, requires_grad=True), ('floating point',)),
    'requires_grad_nonleaf_off': (lambda T: (T.ones(2, requires_grad=True) * 2).requires_grad_(False), ('leaf',)),
    'ragged': (lambda T: T.tensor([[1, 2], [3]]), ('length',)),
    'none_data': (lambda T: T.tensor(None), ('NoneType',)),
    'str_data': (lambda T: T.tensor('abc'), ('str',)),
    'str_in_list': (lambda T: T.tensor(['a']), ('str',)),
    'many_elem_tensors_in_list': (lambda T: T.tensor([T.ones(2), T.ones(2)]), ('one element',)),
    'overflow': (lambda T: T.tensor(2 ** 63), ('Overflow',)),
    'overflow_list': (lambda T: T.tensor([1, 2 ** 63]), ('Overflow',)),
    'object_array': (lambda T: T.tensor(np.array([1, 'a'], object)), ('object',)),
    'negative_size': (lambda T: T.zeros(2, -1), ('negative',)),
    'arange_bad_sign': (lambda T: T.arange(0, 5, -1), ('bound',)),
    'arange_zero_step': (lambda T: T.arange(0, 5, 0), ('step',)),
    'rand_int': (lambda T: T.rand(2, dtype=T.int64), ("'Long'",)),
    'randn_int': (lambda T: T.randn(2, dtype=T.int64), ("'Long'",)),
    'set_default_int': (lambda T: T.set_default_dtype(T.int32), ()),
}


@pytest.mark.parametrize('name', CONVERSION_ERRORS)
def test_conversion_errors_match_torch(name):
    fn, words = CONVERSION_ERRORS[name]
    raises_like(fn, *words)


def test_error_messages_worded_like_torch():
    for fn in (lambda T: T.ones(2, 3).item(), lambda T: bool(T.ones(2)), lambda T: bool(T.ones(0)),
               lambda T: int(T.ones(2)), lambda T: T.ones(2, dtype=T.int64).requires_grad_(),
               lambda T: T.ones(2, dtype=T.int64, requires_grad=True), lambda T: T.tensor([[1, 2], [3]]),
               lambda T: T.tensor(None), lambda T: T.arange(0, 5, -1), lambda T: T.rand(2, dtype=T.int64),
               lambda T: T.randn(2, dtype=T.int64), lambda T: T.tensor(1.).size(0),
               lambda T: setattr(T.ones(2, requires_grad=True), 'grad', T.ones(3)),
               lambda T: setattr(T.ones(2), 'data', [1.]), lambda T: T.tensor([1, 2]).add_(1.5),
               lambda T: T.ones(2, requires_grad=True).add_(1), lambda T: T.ones(2, requires_grad=True)[0].add_(1),
               lambda T: T.ones(2, requires_grad=True).__setitem__(0, 1.),
               lambda T: T.ones(2, requires_grad=True).__setitem__(T.tensor([True, False]), 1.),
               lambda T: T.tensor([True]) - T.tensor([False]), lambda T: T.ones(2) - T.tensor([True, False]),
               lambda T: T.tensor([True]) // T.tensor([True])):
        same_message(fn)


# -- type promotion and broadcasting -------------------------------------------------------------------------
DTYPES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool']
KINDS = ['tensor', '0d', 'int', 'float', 'bool']
BINARY = {'+': operator.add, '-': operator.sub, '*': operator.mul, '/': operator.truediv,
          '//': operator.floordiv, '%': operator.mod, '**': operator.pow, '<': operator.lt, '==': operator.eq}
OPS = list(BINARY) + ['maximum', 'where']


def operand(T, kind, dtype):
    """A tensor (3 values), a 0-d tensor or a Python scalar; values avoid division by zero."""
    values = {'tensor': [1, 2, 3], '0d': 2}
    if kind in values:
        v = np.array(values[kind]) if dtype != 'bool' else np.ones_like(values[kind], dtype=bool)
        return T.tensor(v.astype(np.dtype(dtype if dtype != 'bool' else np.bool_)))
    return {'int': 3, 'float': 1.5, 'bool': True}[kind]


def _apply(T, op, a, b):
    if op == 'where':
        return T.where(T.tensor([True, False, True]), a, b)
    if op == 'maximum':
        return T.maximum(a, b)
    return BINARY[op](a, b)


def _outcome(T, op, a, b):
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return _apply(T, op, operand(T, *a), operand(T, *b))
        except Exception as e:  # noqa: BLE001 - the exception kind is what is compared
            return e


operands = st.tuples(st.sampled_from(KINDS), st.sampled_from(DTYPES))


@settings(max_examples=200, deadline=None)
@given(op=st.sampled_from(OPS), a=operands, b=operands)
def test_type_promotion_matches_torch(op, a, b):
    scalar = [k not in ('tensor', '0d') for k in (a[0], b[0])]
    assume(op == 'where' or not all(scalar))
    assume(op != 'maximum' or not any(scalar))
    t, e = _outcome(torch, op, a, b), _outcome(ember, op, a, b)
    if isinstance(t, Exception):
        assert isinstance(e, Exception), f'torch raised {t!r}, ember gave {e!r}'
        assert _builtin(e) is _builtin(t), f'ember raised {e!r}, torch {t!r}'
        return
    assert not isinstance(e, Exception), f'ember raised {e!r}, torch gave {t!r}'
    half = 'float16' in (a[1], b[1])
    assert_same(e, t, atol=1e-2 if half else 1e-5, rtol=1e-2 if half else 1e-4)


@settings(max_examples=200, deadline=None)
@given(a=operands, b=operands)
def test_result_type_and_promote_types_match_torch(a, b):
    assume(a[0] in ('tensor', '0d') or b[0] in ('tensor', '0d'))
    same(lambda T: T.result_type(operand(T, *a), operand(T, *b)))
    same(lambda T: T.promote_types(getattr(T, a[1]), getattr(T, b[1])))


@st.composite
def shape_pairs(draw):
    """Two shapes from a common one: leading dims dropped, dims set to 1, sometimes one dim changed."""
    base = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    shapes = []
    for _ in range(2):
        s = base[draw(st.integers(0, len(base))):]
        s = [1 if draw(st.booleans()) and draw(st.booleans()) else n for n in s]
        shapes.append(s)
    if shapes[0] and draw(st.booleans()):
        i = draw(st.integers(0, len(shapes[0]) - 1))
        shapes[0][i] = draw(st.integers(0, 5))
    return tuple(shapes[0]), tuple(shapes[1])


def _fmt(shape):
    return '[' + ', '.join(map(str, shape)) + ']'


@settings(max_examples=200, deadline=None)
@given(shapes=shape_pairs(), op=st.sampled_from(['add', 'mul', 'lt', 'maximum', 'where']))
def test_broadcasting_matches_torch(shapes, op):
    sa, sb = shapes
    fn = {'add': lambda T, x, y: x + y, 'mul': lambda T, x, y: T.mul(x, y), 'lt': lambda T, x, y: x < y,
          'maximum': lambda T, x, y: T.maximum(x, y), 'where': lambda T, x, y: T.where(x > 0, x, y)}[op]
    try:
        expected = fn(torch, torch.ones(sa), torch.ones(sb)).shape
    except RuntimeError:
        with pytest.raises(RuntimeError) as e:
            fn(ember, ember.ones(sa), ember.ones(sb))
        assert _fmt(sa) in str(e.value) and _fmt(sb) in str(e.value), str(e.value)
        return
    assert tuple(fn(ember, ember.ones(sa), ember.ones(sb)).shape) == tuple(expected)


def test_integer_overflow_wraps_like_torch():
    same(lambda T: (T.tensor([0], dtype=T.uint8) + -1, T.tensor([0, 1], dtype=T.uint8) + 256,
                    T.tensor([100], dtype=T.int8) * 3, T.tensor([1], dtype=T.int8) * 300))
    same(lambda T: (lambda x: (x.__iadd__(-1), x)[1])(T.tensor([0], dtype=T.uint8)))


# -- in-place ops ------------------------------------------------------------------------------------------
def inplace(fn):
    """Apply ``fn(T, x)`` to a fresh float tensor: it returns x itself, with these values and dtype."""
    def run(T):
        x = X(T)
        return fn(T, x) is x, x
    return run


INPLACE = {
    'add_': lambda T, x: x.add_(1), 'add_alpha': lambda T, x: x.add_(T.ones(3), alpha=2),
    'sub_': lambda T, x: x.sub_(2), 'mul_': lambda T, x: x.mul_(T.tensor([1., 2, 3])),
    'div_': lambda T, x: x.div_(4), 'div_int_tensor': lambda T, x: x.div_(T.tensor([1, 2, 4])),
    'zero_': lambda T, x: x.zero_(), 'fill_': lambda T, x: x.fill_(7),
    'fill_tensor': lambda T, x: x.fill_(T.tensor(2.5)), 'copy_': lambda T, x: x.copy_(T.tensor([1, 2, 3])),
    'copy_same': lambda T, x: x.copy_(T.ones(2, 3, dtype=T.float64) * 3),
    'clamp_': lambda T, x: x.clamp_(1, 4), 'clamp_min': lambda T, x: x.clamp_(min=2),
    'iadd': lambda T, x: x.__iadd__(1), 'isub': lambda T, x: x.__isub__(T.ones(3)),
    'imul': lambda T, x: x.__imul__(2), 'idiv': lambda T, x: x.__itruediv__(2),
    'iadd_int_tensor': lambda T, x: x.__iadd__(T.tensor([1, 2, 3])),
    'iadd_double': lambda T, x: x.__iadd__(T.tensor([1, 2, 3], dtype=T.float64)),
    'ipow': lambda T, x: x.__ipow__(2), 'ifloordiv': lambda T, x: x.__ifloordiv__(2),
    'requires_grad_': lambda T, x: x.requires_grad_(),
}


@pytest.mark.parametrize('name', INPLACE)
def test_inplace_values_and_dtype(name):
    same(inplace(INPLACE[name]))


def test_inplace_on_integer_tensors():
    same(lambda T: (lambda x: (x.__iadd__(2), x.__imul__(3), x.__isub__(T.tensor([1, 1])), x)[-1])(
        T.tensor([1, 2])))
    same(lambda T: (lambda x: (x.__iadd__(T.tensor([1], dtype=T.int64)), x)[-1])(T.tensor([0], dtype=T.int32)))
    same(lambda T: (lambda x: (x.__ior__(T.tensor([True, False])), x)[-1])(T.tensor([False, False])))
    for fn in (lambda T: T.tensor([1, 2]).__iadd__(1.5), lambda T: T.tensor([1, 2]).add_(1.5),
               lambda T: T.tensor([1, 2]).__itruediv__(2), lambda T: T.tensor([1, 2]).mul_(T.tensor([1.5, 2.])),
               lambda T: T.tensor([True]).__iadd__(1)):
        same_message(fn)
    raises_like(lambda T: T.ones(3).add_(T.ones(2, 3)), '[3]', '[2, 3]')


def test_inplace_update_by_tensor_not_recorded():
    """add_/sub_ by a tensor outside autograd (p.data, no_grad) write into self's array: values, alpha, dtype,
    version bump and views as PyTorch (a float64 self and a transposed one included)."""
    def run(T):
        p = T.nn.Parameter(T.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]))
        g = T.tensor([[0.5, 0.25, -1.0], [2.0, -0.5, 1.0]])
        v = p.data._version
        p.data.add_(g, alpha=-20.0)
        p.data.sub_(g)
        with T.no_grad():
            p += g
            p.t().sub_(g.t(), alpha=2)
            d = T.ones(2, 3, dtype=T.float64)
            d.add_(g.double(), alpha=0.5)
        return p.detach(), p.data._version - v, p.requires_grad, d
    same(run)


def test_inplace_shape_and_samplers():
    same(lambda T: (lambda x: (x.unsqueeze_(0) is x, x.shape, x.squeeze_() is x, x.shape, x.t_().shape))(X(T)))
    same(lambda T: (lambda x: (x.uniform_(2, 3) is x, bool(((x >= 2) & (x < 3)).all())))(X(T)))
    same(lambda T: (lambda x: (x.normal_() is x, x.shape, x.dtype, x.normal_(5, 0.001).mean().round()))(X(T)))


LEAF_ERRORS = {
    'add_': lambda x: x.add_(1), 'iadd': lambda x: x.__iadd__(1), 'mul_': lambda x: x.mul_(2),
    'zero_': lambda x: x.zero_(), 'fill_': lambda x: x.fill_(1), 'copy_': lambda x: x.copy_(x.detach() * 0),
    'clamp_': lambda x: x.clamp_(0, 1), 'uniform_': lambda x: x.uniform_(), 'normal_': lambda x: x.normal_(),
    'unsqueeze_': lambda x: x.unsqueeze_(0), 'setitem': lambda x: x.__setitem__(0, 5.),
    'setitem_mask': lambda x: x.__setitem__(x > 0, 5.), 'view': lambda x: x[0].add_(1),
    'view_reshape': lambda x: x.view(2).mul_(2),
}


@pytest.mark.parametrize('name', LEAF_ERRORS)
def test_inplace_on_leaf_requiring_grad_raises(name):
    same_message(lambda T: LEAF_ERRORS[name](T.ones(2, requires_grad=True)))


def test_inplace_on_leaf_under_no_grad_seed003():
    """``with torch.no_grad(): W -= lr * W.grad`` updates the leaf and keeps it a leaf that requires grad."""
    def run(T):
        W = T.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        X_ = T.tensor([[1.0, 2.0], [3.0, 4.0]])
        out = []
        for _ in range(3):
            loss = ((X_ @ W - 1) ** 2).mean()
            loss.backward()
            with T.no_grad():
                W -= 0.01 * W.grad
                W.data.mul_(1.0)
            W.requires_grad_(True)
            out += [loss, W.grad.clone()]
            W.grad.zero_()
        return [W, W.grad] + out, (W.is_leaf, W.requires_grad, W.grad_fn)
    (te, tf), (ee, ef) = run(torch), run(ember)
    assert_same(ee, te)
    assert ef == tf


def test_every_inplace_op_on_leaf_under_no_grad():
    def run(T):
        x = T.ones(2, requires_grad=True)
        with T.no_grad():
            x.add_(1), x.zero_(), x.uniform_(0, 0), x.normal_(0, 0), x.fill_(2), x.unsqueeze_(0)
            x[0, 1] = 3.
            x.copy_(x * 2)
        return x, x.is_leaf, x.grad_fn
    same(run)


def grads_match(fn, *values):
    """``fn(T, *leaves)`` returns a tensor; its sum is backpropagated and the leaves' grads compared."""
    out = {}
    for T in LIBS:
        leaves = [T.tensor(v, requires_grad=True) for v in values]
        y = fn(T, *leaves)
        y.sum().backward()
        out[T] = [y] + [leaf.grad for leaf in leaves]
    assert_same(out[ember], out[torch], what='output and leaf grads')


NONLEAF = {
    'mul_pow': (lambda T, x: (lambda h: (h.mul_(3), h.pow_(2))[-1])(x * 2), [[1., 2.]]),
    'iadd_imul': (lambda T, x, w: (lambda h: (h.__iadd__(w), h.__imul__(w), h)[-1])(x * 2), [[1., 2.], [3., 4.]]),
    'add_exp': (lambda T, x: (lambda h: (h.add_(x), h.exp_())[-1])(x + 0), [[0.5, -1.]]),
    'clamp_': (lambda T, x: (x * 3).clamp_(-1, 2), [[1., -2., 0.1]]),
    'zero_': (lambda T, x: (lambda h: (h.zero_(), h + x)[-1])(x * 2), [[1., 2.]]),
    'fill_': (lambda T, x: (lambda h: (h.fill_(3.), h * x)[-1])(x * 2), [[1., 2.]]),
    'uniform_': (lambda T, x: (lambda h: (h.uniform_(1, 1), h * x)[-1])(x * 2), [[1., 2.]]),
    'copy_': (lambda T, x, w: (lambda h: (h.copy_(w), h * x)[-1])(x * 2), [[1., 2.], [3., 5.]]),
    'copy_broadcast': (lambda T, x, w: (lambda h: (h.copy_(w), h * x)[-1])(x * 2), [[[1., 2.]], [3.]]),
    'unsqueeze_': (lambda T, x: (lambda h: (h.unsqueeze_(0), h * h)[-1])(x * 2), [[1., 2.]]),
    'view_select': (lambda T, x: (lambda h: (h[0].mul_(5), h * h)[-1])(x * 2), [[1., 2.]]),
    'view_column': (lambda T, x: (lambda h: (h[:, 1].mul_(5), h * h)[-1])(x * 2), [[[1., 2.], [3., 4.]]]),
    'view_0d': (lambda T, x: (lambda h: (h[1, 0].add_(x[0, 0]), h * h)[-1])(x * 2), [[[1., 2.], [3., 4.]]]),
    'view_view': (lambda T, x, w: (lambda h: (h.view(-1).mul_(w), h * x)[-1])(x * 2),
                  [[[1., 2.], [3., 4.]], [1., 2., 3., 4.]]),
    'view_transpose': (lambda T, x, w: (lambda h: (h.t().mul_(w), h.exp())[-1])(x * 1),
                       [[[1., 2.], [3., 4.]], [[1., -1.], [2., .5]]]),
    'view_unsqueeze': (lambda T, x: (lambda h: (h.unsqueeze(0).mul_(3), h * x)[-1])(x * 2), [[1., 2.]]),
    'view_of_view': (lambda T, x: (lambda h: (h[1:][0].mul_(3), h * h)[-1])(x * 2), [[1., 2., 3.]]),
    'diagonal': (lambda T, x: (lambda h: (h.diagonal().mul_(3), h * x)[-1])(x * 2), [[[1., 2.], [3., 4.]]]),
    'view_zero_': (lambda T, x: (lambda h: (h[0].zero_(), h * h)[-1])(x * 2), [[1., 2.]]),
    'view_fill_': (lambda T, x: (lambda h: (h[1:].fill_(1.), h * x)[-1])(x * 2), [[1., 2., 3.]]),
    'view_iadd': (lambda T, x, w: (lambda h: (h[:, 0].__iadd__(w), h ** 2)[-1])(x * 2),
                  [[[1., 2.], [3., 4.]], [5., 6.]]),
    'view_into_plain_base': (lambda T, w: (lambda z: (z[1:3].copy_(w), z * z)[-1])(T.zeros(4)), [[1., 2.]]),
    'view_mul_into_plain_base': (lambda T, w: (lambda z: (z[0].mul_(w), z * z)[-1])(T.ones(2, 2)), [[3., 4.]]),
    'setitem_index': (lambda T, x, v: (lambda h: (h.__setitem__(0, v), h * h)[-1])(x * 1), [[1., 2., 3.], 5.]),
    'setitem_mask': (lambda T, x, v: (lambda h: (h.__setitem__(h > 1.5, v), h * h)[-1])(x * 1),
                     [[1., 2., 3.], 5.]),
    'setitem_advanced': (lambda T, x, v: (lambda h: (h.__setitem__(([0, 1], [1, 0]), v), h * h)[-1])(x * 1),
                         [[[1., 2.], [3., 4.]], [5., 6.]]),
    'setitem_slice_broadcast': (lambda T, x, v: (lambda h: (h.__setitem__((slice(None), 1), v), h.exp())[-1])(x + 0),
                                [[[1., 2.], [3., 4.]], [0.5]]),
    'setitem_plain_base': (lambda T, v: (lambda z: (z.__setitem__(slice(0, 2), v), z * z)[-1])(T.zeros(3)),
                           [[1., 2.]]),
    'setitem_view': (lambda T, x, v: (lambda h: (h[1].__setitem__(0, v), h * h)[-1])(x * 1),
                     [[[1., 2.], [3., 4.]], 7.]),
}


@pytest.mark.parametrize('name', NONLEAF)
def test_inplace_on_non_leaf_gradients(name):
    fn, values = NONLEAF[name]
    grads_match(fn, *values)


def test_inplace_on_view_double_backward():
    """Second derivatives flow through the CopySlices that an in-place op on a view records on its base."""
    def run(T):
        x = T.tensor([[1.5, 2.], [3., 4.]], requires_grad=True)
        h = x * x
        h[0].mul_(x[1])
        h.diagonal().add_(x[:, 0])
        g, = T.autograd.grad((h ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        return g, x.grad
    assert_same(run(ember), run(torch))


def test_grad_fn_after_inplace():
    same(lambda T: (lambda x: [(lambda h: (f(h), h.grad_fn.name())[1])(x * 2) for f in (
        lambda h: h.mul_(3), lambda h: h.add_(1), lambda h: h.__setitem__(0, 1.), lambda h: h.zero_(),
        lambda h: h.uniform_(), lambda h: h[0].mul_(2), lambda h: h.exp_())])(T.ones(2, requires_grad=True)))
    same(lambda T: (lambda x: (x.add_(T.ones(2, requires_grad=True)), x.requires_grad, x.is_leaf))(T.ones(2)))


VERSION_ERRORS = {
    'output_saved': lambda T, x: (lambda y: (y.add_(1), y))(x.exp())[1],
    'input_saved': lambda T, x: (lambda h: (lambda y: (h.add_(1), y)[1])(h * h))(x * 2),
    'view_modified': lambda T, x: (lambda h: (lambda y: (h[0].mul_(2), y)[1])(h.sin()))(x * 2),
    'leaf_under_no_grad': lambda T, x: (lambda y: (T.no_grad().__enter__(), x.add_(1), T.set_grad_enabled(True),
                                                   y)[-1])(x * x),
    'detached_modified': lambda T, x: (lambda y: (x.detach().add_(1), y)[1])(x.pow(2)),
    'unsqueeze_': lambda T, x: (lambda h: (lambda y: (h.unsqueeze_(0), y)[1])(h.pow(2)))(x * 2),
}


@pytest.mark.parametrize('name', VERSION_ERRORS)
def test_modified_saved_tensor_raises(name):
    def run(T):
        x = T.ones(2, requires_grad=True)
        VERSION_ERRORS[name](T, x).sum().backward()
    e, t = raises_like(run, 'one of the variables needed for gradient computation has been modified by an '
                            'inplace operation')
    if name != 'unsqueeze_':  # torch records unsqueeze_ as UnsqueezeBackward1, ember as UnsqueezeBackward0
        assert e.split('Hint')[0] == t.split('Hint')[0]


def test_data_changes_are_not_tracked():
    """Writing through ``.data`` does not bump the version: backward uses the new values, as in torch."""
    grads_match(lambda T, x: (lambda y: (x.data.mul_(3), y)[1])(x * x), [1., 2.])


SETITEM = {
    'int': lambda T, x: x.__setitem__(0, 1),
    'int_int': lambda T, x: x.__setitem__((1, 2), -5.),
    'negative': lambda T, x: x.__setitem__(-1, T.tensor([7., 8., 9.])),
    'slice': lambda T, x: x.__setitem__((slice(None), slice(1, None)), 0.5),
    'step': lambda T, x: x.__setitem__((0, slice(None, None, 2)), T.tensor([4., 5.])),
    'mask': lambda T, x: x.__setitem__(x > 3, -1),
    'mask_row': lambda T, x: x.__setitem__(T.tensor([True, False]), 2.),
    'mask_tensor_values': lambda T, x: x.__setitem__(x > 2, T.tensor([10., 20., 30.])),
    'lists': lambda T, x: x.__setitem__(([0, 1], [2, 0]), T.tensor([9., 8.])),
    'tensor_index': lambda T, x: x.__setitem__(T.tensor([1]), T.tensor([[3., 3., 3.]])),
    'ellipsis': lambda T, x: x.__setitem__((Ellipsis, 0), 3),
    'none': lambda T, x: x.__setitem__((None, 0), 1.),
    'broadcast_row': lambda T, x: x.__setitem__(slice(None), T.tensor([1., 2., 3.])),
    'self_expression': lambda T, x: x.__setitem__(Ellipsis, x * 0 + x.flip(0)),
    'zero_d_index': lambda T, x: x.__setitem__(T.tensor(1), 0.),
    'int_into_float_values': lambda T, x: x.__setitem__(0, T.tensor([1, 2, 3])),
}


@pytest.mark.parametrize('name', SETITEM)
def test_setitem_values(name):
    same(lambda T: (lambda x: (SETITEM[name](T, x), x)[1])(X(T)))


def test_setitem_dtype_and_errors():
    same(lambda T: (lambda x: (x.__setitem__(0, 2.7), x)[1])(T.tensor([1, 2])))
    same(lambda T: (lambda x: (x.__setitem__(0, True), x)[1])(T.tensor([1., 2.])))
    raises_like(lambda T: X(T).__setitem__(0, T.ones(2)), '[2]')
    raises_like(lambda T: X(T).__setitem__(5, 1.), 'index 5', 'size 2')
    raises_like(lambda T: X(T).__setitem__((0, 7), 1.), 'index 7', 'size 3')


# -- views share memory ------------------------------------------------------------------------------------
VIEWS = {
    'view': lambda T, x: x.view(6).__setitem__(0, 100.),
    'reshape': lambda T, x: x.reshape(3, 2).add_(1),
    'flatten': lambda T, x: x.flatten().mul_(2),
    'slice': lambda T, x: x[:, 1:].mul_(2),
    'select_setitem': lambda T, x: x[0].__setitem__(1, 50.),
    'select_0d': lambda T, x: x[1, 2].fill_(-1),
    'select_select': lambda T, x: x[1][2].fill_(-1),
    'transpose': lambda T, x: x.transpose(0, 1).add_(T.tensor([1., 2.])),
    't_setitem': lambda T, x: x.t().__setitem__((2, 1), 9.),
    'unsqueeze': lambda T, x: x.unsqueeze(0)[0, 1, 1].fill_(-1),
    'squeeze': lambda T, x: x.unsqueeze(1).squeeze(1).zero_(),
    'permute': lambda T, x: x.permute(1, 0)[0].fill_(4),
    'narrow': lambda T, x: x.narrow(1, 1, 2).copy_(T.ones(2, 2)),
    'detach': lambda T, x: x.detach().add_(1),
    'data': lambda T, x: x.data.sub_(1),
    'view_as': lambda T, x: x.view_as(T.ones(3, 2)).clamp_(1, 3),
    'unbind': lambda T, x: x.unbind(1)[2].mul_(10),
    'split': lambda T, x: x.split(1, dim=1)[0].zero_(),
    'chunk': lambda T, x: x.chunk(2)[1].fill_(7),
    'diagonal': lambda T, x: x.diagonal().fill_(-3),
    'numpy': lambda T, x: x.numpy().__setitem__((0, 0), 42.),
}


@pytest.mark.parametrize('name', VIEWS)
def test_writing_into_a_view_changes_the_base(name):
    same(lambda T: (lambda x: (VIEWS[name](T, x), x)[1])(X(T)))


def test_views_see_base_changes():
    same(lambda T: (lambda x: (lambda v, w, u: (x.add_(1), x[0, 0].fill_(9), v, w, u))(
        x[1], x.t(), x.view(-1)[2:]))(X(T)))


def test_non_views_are_copies():
    same(lambda T: (lambda x: (x[[0, 1]].fill_(0), x[x > 2].fill_(0), x.clone().fill_(0), x.contiguous().t(),
                               x.t().contiguous().fill_(0), x.to(T.float64).fill_(0), x)[-1])(X(T)))


# -- error conditions ----------------------------------------------------------------------------------------
ERRORS = {
    'matmul': (lambda T: T.ones(2, 3) @ T.ones(4, 5), ('2x3', '4x5')),
    'matmul_vectors': (lambda T: T.ones(3) @ T.ones(4), ('3', '4')),
    'matmul_batch': (lambda T: T.ones(2, 2, 3) @ T.ones(3, 3, 5), ('[2, 2, 3]', '[3, 3, 5]')),
    'matmul_dtype': (lambda T: T.ones(2, 2) @ T.ones(2, 2, dtype=T.float64), ('float', 'double')),
    'mm': (lambda T: T.mm(T.ones(2, 3), T.ones(4, 5)), ('2x3', '4x5')),
    'bmm': (lambda T: T.bmm(T.ones(2, 2, 3), T.ones(2, 4, 5)), ('3', '4')),
    'mv': (lambda T: T.mv(T.ones(2, 3), T.ones(4)), ('3', '4')),
    'dot': (lambda T: T.dot(T.ones(3), T.ones(4)), ('3', '4')),
    'linear': (lambda T: T.nn.Linear(3, 4)(T.ones(2, 5)), ('2x5', '3x4')),
    'broadcast_add': (lambda T: T.ones(2, 3) + T.ones(4), ('[2, 3]', '[4]')),
    'broadcast_mul': (lambda T: T.ones(2, 3) * T.ones(2), ('[2, 3]', '[2]')),
    'broadcast_cmp': (lambda T: T.ones(2, 3) < T.ones(2), ('[2, 3]', '[2]')),
    'broadcast_where': (lambda T: T.where(T.ones(2, 3) > 0, T.ones(2), 0.), ('[2, 3]', '[2]')),
    'broadcast_inplace': (lambda T: T.ones(2, 3).add_(T.ones(2)), ('[2, 3]', '[2]')),
    'view_non_contiguous': (lambda T: T.ones(2, 3).t().view(6), ('view', 'reshape')),
    'view_bad_size': (lambda T: T.ones(2, 3).view(4), ('[4]', '6')),
    'view_two_inferred': (lambda T: T.ones(2, 3).view(-1, -1), ('one dimension',)),
    'reshape_bad_size': (lambda T: T.ones(2, 3).reshape(5), ('[5]', '6')),
    'dim_sum': (lambda T: T.ones(2, 3).sum(2), ('range', '2')),
    'dim_negative': (lambda T: T.ones(2, 3).sum(-3), ('range', '-3')),
    'dim_unsqueeze': (lambda T: T.ones(2, 3).unsqueeze(3), ('range', '3')),
    'dim_transpose': (lambda T: T.ones(2, 3).transpose(0, 2), ('range', '2')),
    'dim_softmax': (lambda T: T.ones(2, 3).softmax(2), ('range', '2')),
    'dim_cat': (lambda T: T.cat([T.ones(2, 3), T.ones(2, 3)], 2), ('range', '2')),
    'dim_squeeze': (lambda T: T.ones(2, 3).squeeze(2), ('range', '2')),
    'dim_argmax': (lambda T: T.ones(2, 3).argmax(2), ('range', '2')),
    'dim_mean': (lambda T: T.ones(2, 3).mean(dim=5), ('range', '5')),
    'dim_flatten': (lambda T: T.ones(2, 3).flatten(0, 3), ('range', '3')),
    'cat_sizes': (lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]), ('3', '4', 'tensor number 1')),
    'stack_sizes': (lambda T: T.stack([T.ones(2, 3), T.ones(2, 4)]), ('[2, 3]', '[2, 4]')),
    'expand': (lambda T: T.ones(2, 3).expand(4, 3), ('4', '2')),
    'permute_duplicate': (lambda T: T.ones(2, 3).permute(0, 0), ('dim',)),
    'item_many': (lambda T: T.ones(2, 3).item(), ('6 elements',)),
    'backward_non_scalar': (lambda T: (T.ones(2, requires_grad=True) * 2).backward(), ('scalar',)),
    'backward_no_grad': (lambda T: T.ones(2).sum().backward(), ('grad',)),
    'backward_twice': (lambda T: (lambda y: (y.backward(), y.backward()))(T.ones(2, requires_grad=True).exp().sum()),
                       ('second time',)),
    'backward_grad_shape': (lambda T: (T.ones(2, requires_grad=True) * 2).backward(T.ones(3)), ('[3]', '[2]')),
    'numpy_requires_grad': (lambda T: T.ones(2, requires_grad=True).numpy(), ('detach',)),
    'index_out_of_range': (lambda T: T.ones(2, 3)[2], ('index 2', 'size 2')),
    'index_column_out_of_range': (lambda T: T.ones(2, 3)[:, 5], ('index 5', 'size 3')),
    'index_too_many': (lambda T: T.ones(2, 3)[0, 0, 0], ('too many indices',)),
    'index_float_tensor': (lambda T: T.ones(2, 3)[T.tensor([0.])], ('long',)),
    'index_advanced_out_of_range': (lambda T: T.ones(2, 3)[T.tensor([0, 5])], ('5',)),
    'sub_bool': (lambda T: T.tensor([True]) - True, ('bool',)),
    'floordiv_bool': (lambda T: T.tensor([True]) // T.tensor([True]), ("'Bool'",)),
    'pow_bool': (lambda T: T.tensor([True]) ** T.tensor([True]), ("'Bool'",)),
    'int_negative_pow': (lambda T: T.tensor([2]) ** -1, ('negative',)),
}


@pytest.mark.parametrize('name', ERRORS)
def test_errors_match_torch(name):
    fn, words = ERRORS[name]
    raises_like(fn, *words)


def test_cuda_device_is_refused_clearly():
    """torch without CUDA raises AssertionError 'Torch not compiled with CUDA enabled'; ember's is also a
    RuntimeError."""
    with pytest.raises(RuntimeError, match='^Torch not compiled with CUDA enabled$'):
        ember.ones(2, device='cuda')
    with pytest.raises(AssertionError, match='^Torch not compiled with CUDA enabled$'):
        ember.ones(2).to('cuda')


def test_inf_and_nan_are_made_silently_like_pytorch():
    """1/0, log(0), exp overflow and sqrt(-1) print what PyTorch prints and warn nothing; NumPy code
    outside ember still warns."""
    import subprocess
    import sys
    code = ("import {lib} as T\nt = T.tensor([1., 0., -1.])\n"
            "print(t / 0, t.log(), (t * 1000).exp(), t.sqrt(), t.pow(-1), (t * 0).div(0))\n")
    runs = {lib: subprocess.run([sys.executable, '-c', code.format(lib=lib)], capture_output=True, text=True)
            for lib in ('torch', 'ember')}
    assert runs['ember'].returncode == 0 and runs['ember'].stderr == ''
    assert runs['ember'].stdout == runs['torch'].stdout
    numpy_run = subprocess.run([sys.executable, '-c', 'import ember, numpy as np; np.log(np.zeros(1))'],
                               capture_output=True, text=True)
    assert 'RuntimeWarning: divide by zero' in numpy_run.stderr


_SETITEM_INDICES = {
    'mask': lambda L: L.tensor([True, False, True]), 'int-tensor': lambda L: L.tensor([0, 2]),
    'list': lambda L: [0, 2], 'col-mask': lambda L: (slice(None), L.tensor([True, False, True, False])),
    'mask-then-full': lambda L: (L.tensor([True, False, True]), slice(None)),
    'two-int': lambda L: (L.tensor([0, 1]), L.tensor([1, 2])), 'ellipsis': lambda L: (Ellipsis, L.tensor([1, 2])),
    '2d-mask': lambda L: L.ones(3, 4, dtype=L.bool), 'stop-past-end': lambda L: (slice(0, 9), L.tensor([0, 1])),
    'int-then-mask': lambda L: (0, L.tensor([True, False, True, False])),
    'partial-slice': lambda L: (slice(0, 2), L.tensor([0, 1])), '0d-int': lambda L: L.tensor(1),
    '0d-bool': lambda L: L.tensor(True), 'slice': lambda L: slice(0, 2)}


@pytest.mark.parametrize('name', list(_SETITEM_INDICES))
def test_setitem_records_index_put_or_copy_slices_as_torch(name):
    """``safe[mask] = x[mask] / div[mask]`` (notes/autograd.md): PyTorch writes an index of masks and index
    tensors (beside only ``...`` and full slices) as index_put_ on the tensor itself, IndexPutBackward0, and
    anything that takes a view first (an int, a partial slice, a 0-d bool) as CopySlices; on a view, always
    CopySlices. Values and gradients as PyTorch's."""
    got = []
    for lib in (ember, torch):
        x = lib.tensor((np.arange(12.).reshape(3, 4) / 7).astype(np.float32), requires_grad=True)
        ix = _SETITEM_INDICES[name](lib)
        b = lib.zeros(3, 4)
        b[ix] = x[ix] * 2
        view = lib.zeros(5, 4)[1:4]
        view[ix] = x[ix] * 3
        (b.sum() + (view * view).sum()).backward()
        got.append((b.grad_fn.name(), [type(n).__name__ for n, _ in b.grad_fn.next_functions if n is not None],
                    view.grad_fn.name(), b.detach().numpy().tolist(), x.grad.numpy().round(6).tolist()))
    assert got[0] == got[1]
