"""Correctness items from earlier reports, each against PyTorch: ndarray operands of functions and methods, inference
tensors saved for backward, ``grad_fn._raw_saved_*``, tanh's gradient under create_graph, the C++ type names."""
import numpy as np
import pytest
import torch

import ember


def _outcome(lib, f):
    """('ok', dtype, values) or ('raise', exception type name, message)."""
    try:
        r = f(lib)
    except Exception as e:   # noqa: BLE001 - the oracle's exception is what is compared
        kind = next((k.__name__ for k in (TypeError, RuntimeError) if isinstance(e, k)), type(e).__name__)
        return ('raise', kind, str(e))
    if isinstance(r, (torch.Tensor, ember.Tensor)):
        return ('ok', str(r.dtype), r.detach().numpy().tolist())
    return ('ok', type(r).__name__, None)


# -- (2) ndarray operands: PyTorch's functions and methods refuse them, its operators hand them to NumPy -----------
A = np.array([1.0, 2.0, 3.0])
NDARRAY_REFUSED = {
    'add_method': lambda L: L.ones(3).add(A), 'add_function': lambda L: L.add(L.ones(3), A),
    'add_function_first': lambda L: L.add(A, L.ones(3)), 'add_alpha': lambda L: L.ones(3).add(A, alpha=2),
    'sub_function': lambda L: L.sub(L.ones(3), A), 'mul_function': lambda L: L.mul(L.ones(3), A),
    'div_function': lambda L: L.div(L.ones(3), A), 'atan2': lambda L: L.atan2(L.ones(3), A),
    'add_0d_array': lambda L: L.ones(3).add(np.array(2.0)), 'maximum': lambda L: L.maximum(L.ones(3), A),
    'eq_method': lambda L: L.ones(3).eq(A), 'lt_method': lambda L: L.ones(3).lt(A),
    'remainder': lambda L: L.ones(3).remainder(A), 'pow_function': lambda L: L.pow(L.ones(3), A),
    'where': lambda L: L.where(L.ones(3) > 0, L.ones(3), A), 'xlogy': lambda L: L.xlogy(L.ones(3), A),
    'add_': lambda L: L.ones(3).add_(A), 'mul_': lambda L: L.ones(3).mul_(A),
    'matmul_method': lambda L: L.ones(3).matmul(A), 'hypot': lambda L: L.ones(3).hypot(A),
}


@pytest.mark.parametrize('name', sorted(NDARRAY_REFUSED))
def test_ndarray_operand_of_functions_and_methods_is_a_type_error(name):
    e, t = _outcome(ember, NDARRAY_REFUSED[name]), _outcome(torch, NDARRAY_REFUSED[name])
    assert t[:2] == ('raise', 'TypeError')
    assert e[:2] == t[:2], (e, t)
    assert 'numpy.ndarray' in e[2] and 'numpy.ndarray' in t[2]


def test_ndarray_operand_error_names_argument_as_pytorch():
    for f in (lambda L: L.add(L.ones(3), A), lambda L: L.add(A, L.ones(3)), lambda L: L.mul(L.ones(3), A),
              lambda L: L.atan2(L.ones(3), A)):
        assert _outcome(ember, f) == _outcome(torch, f)


NDARRAY_ACCEPTED = {
    'plus': lambda L: L.ones(3) + A, 'times_int': lambda L: L.ones(3) * np.arange(3), 'eq': lambda L: L.ones(3) == A,
    'eq_reflected': lambda L: A == L.ones(3), 'rdiv': lambda L: A / L.ones(3), 'minus': lambda L: L.ones(3) - A,
    'numpy_scalar_method': lambda L: L.ones(3).add(np.float64(2.0)), 'numpy_int_function': lambda L: L.mul(
        L.ones(3), np.int64(2)), 'iadd': lambda L: L.ones(3).__iadd__(A),
}


@pytest.mark.parametrize('name', sorted(NDARRAY_ACCEPTED))
def test_ndarray_operand_of_operators_and_numpy_scalars_as_pytorch(name):
    e, t = _outcome(ember, NDARRAY_ACCEPTED[name]), _outcome(torch, NDARRAY_ACCEPTED[name])
    assert e == t


# -- (3) inference tensors saved for backward -----------------------------------------------------------------
SAVING = {
    'mul': lambda L, w, x, m: w * x, 'div': lambda L, w, x, m: x / w, 'matmul': lambda L, w, x, m: m @ w,
    'linear': lambda L, w, x, m: L.nn.functional.linear(w, m), 'pow': lambda L, w, x, m: w ** x,
    'scalar_times': lambda L, w, x, m: w.sum() * x,
    # saving nothing of the inference tensor is allowed
    'add': lambda L, w, x, m: w + x, 'cat': lambda L, w, x, m: L.cat([w, x]),
    'clone': lambda L, w, x, m: w * x.clone(), 'where': lambda L, w, x, m: L.where(x > 0, w, x),
}


@pytest.mark.parametrize('name', sorted(SAVING))
def test_inference_tensor_saved_for_backward_refused_as_pytorch(name):
    def run(L):
        with L.inference_mode():
            x, m = L.ones(3), L.ones(3, 3)
        w = L.ones(3, requires_grad=True)
        y = SAVING[name](L, w, x, m)
        y.sum().backward()
        return w.grad
    assert _outcome(ember, run) == _outcome(torch, run)


def test_parameters_made_in_inference_mode_are_inference_tensors():
    def run(L):
        with L.inference_mode():
            lin = L.nn.Linear(3, 2)
        return lin(L.ones(3, requires_grad=True))

    def flags(L):
        with L.inference_mode():
            lin, x = L.nn.Linear(3, 2), L.ones(2)
        p = L.nn.Parameter(x, requires_grad=False)
        return L.tensor([lin.weight.is_inference(), lin.weight.requires_grad, p.is_inference()])

    def outside(L):
        with L.inference_mode():
            x = L.ones(2)
        return L.nn.Parameter(x)
    for f in (run, flags, outside):
        assert _outcome(ember, f) == _outcome(torch, f)


# -- (4) grad_fn._raw_saved_* ----------------------------------------------------------------------------------
def _raw_saved_run(L, op, attr):
    """A pair of hooks on one raw saved tensor: the calls, the saved value read back and the gradients."""
    calls = []
    gen = np.random.default_rng(0)
    x = L.tensor(gen.standard_normal(4), requires_grad=True)
    w = L.tensor(gen.standard_normal(4), requires_grad=True)
    y = op(x, w)
    raw = getattr(y.grad_fn, attr)
    raw.register_hooks(lambda t: (calls.append('pack'), t * 2)[1], lambda t: (calls.append('unpack'), t + 1)[1])
    packed = raw.data.detach().numpy().tolist()
    saved = getattr(y.grad_fn, attr.replace('_raw', '')).detach().numpy().tolist()
    y.sum().backward()
    return calls, packed, saved, x.grad.numpy().tolist(), w.grad.numpy().tolist()


RAW = {'mul_self': (lambda x, w: x * w, '_raw_saved_self'), 'mul_other': (lambda x, w: x * w, '_raw_saved_other'),
       'exp_result': (lambda x, w: (x * w).exp(), '_raw_saved_result'),
       'sin_self': (lambda x, w: (x + w).sin(), '_raw_saved_self'),
       'div_other': (lambda x, w: x / w, '_raw_saved_other')}


@pytest.mark.parametrize('name', sorted(RAW))
def test_raw_saved_tensor_hooks_as_pytorch(name):
    op, attr = RAW[name]
    e, t = _raw_saved_run(ember, op, attr), _raw_saved_run(torch, op, attr)
    assert e[0] == t[0]
    for a, b in zip(e[1:], t[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_raw_saved_tensor_refusals_as_pytorch():
    def twice(L):
        y = L.ones(2, requires_grad=True).exp()
        raw = y.grad_fn._raw_saved_result
        raw.register_hooks(lambda t: t, lambda t: t)
        raw.register_hooks(lambda t: t, lambda t: t)

    def freed(L):
        y = L.ones(2, requires_grad=True).exp()
        raw = y.grad_fn._raw_saved_result
        y.sum().backward()
        raw.register_hooks(lambda t: t, lambda t: t)

    def one_hook(L):
        L.ones(2, requires_grad=True).exp().grad_fn._raw_saved_result.register_hooks(lambda t: t)
    for f in (twice, freed):
        assert _outcome(ember, f) == _outcome(torch, f)
    assert _outcome(ember, one_hook)[:2] == _outcome(torch, one_hook)[:2] == ('raise', 'TypeError')
    x = ember.ones(2, requires_grad=True)
    assert repr(type(x.exp().grad_fn._raw_saved_result)) == repr(type(torch.ones(2, requires_grad=True).exp().grad_fn
                                                                     ._raw_saved_result))


# -- (6) tanh's gradient under create_graph ----------------------------------------------------------------------
def _graph_names(t):
    return (type(t.grad_fn).__name__,
            [None if n is None else type(n).__name__ for n, _ in t.grad_fn.next_functions])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_tanh_gradient_under_create_graph_is_tanh_backward_as_pytorch(dtype):
    vals = np.linspace(-3, 3, 25)
    res = {}
    for L in (ember, torch):
        x = L.tensor(vals, dtype=getattr(L, dtype), requires_grad=True)
        v = L.tensor(np.cos(vals), dtype=getattr(L, dtype), requires_grad=True)
        g, = L.autograd.grad(L.tanh(x), x, v, create_graph=True)
        g2x, g2v = L.autograd.grad(g.sum(), (x, v), create_graph=True)
        g3, = L.autograd.grad(g2x.sum(), x)
        res[L] = [(t.detach().numpy(), _graph_names(t) if t.grad_fn is not None else None) for t in (g, g2x, g2v)]
        res[L].append((g3.numpy(), None))
    for (ev, en), (tv, tn) in zip(res[ember], res[torch]):
        assert en == tn
        if dtype == 'float32':   # the kernel's rounding, bit for bit
            np.testing.assert_array_equal(ev, tv)
        else:                    # NumPy's float64 tanh itself is 1 ulp off PyTorch's for some inputs
            np.testing.assert_allclose(ev, tv, rtol=1e-12)


def test_tanh_gradient_under_create_graph_against_finite_differences():
    x = ember.tensor(np.linspace(-2, 2, 7), dtype=ember.float64, requires_grad=True)
    v = ember.tensor(np.sin(np.arange(7.0)), dtype=ember.float64, requires_grad=True)

    def f(x, v):
        return ember.autograd.grad(ember.tanh(x), x, v, create_graph=True)[0]
    assert ember.autograd.gradcheck(f, (x, v))
    assert ember.autograd.gradgradcheck(f, (x, v))


# -- (7) the C++ type names in one helper -------------------------------------------------------------------------
DTYPES = ['float32', 'float64', 'float16', 'bfloat16', 'complex64', 'complex128', 'int8', 'uint8', 'int16', 'int32',
          'int64', 'bool']


@pytest.mark.parametrize('dtype', DTYPES)
def test_tensor_type_names_as_pytorch(dtype):
    assert ember.zeros(2, dtype=getattr(ember, dtype)).type() == torch.zeros(2, dtype=getattr(torch, dtype)).type()


@pytest.mark.parametrize('dtype', ['float32', 'bool', 'bfloat16', 'complex64', 'uint8', 'float16'])
def test_type_strings_in_argument_checks_as_pytorch(dtype):
    def values(L):
        L.median(L.ones(3, 2), 0, out=(L.ones(3, dtype=getattr(L, dtype)), L.empty(0, dtype=L.long)))

    def indices(L):
        L.median(L.ones(3, 2), 0, out=(L.empty(0), L.empty(0, dtype=getattr(L, dtype))))
    for f in (values, indices):
        e, t = _outcome(ember, f), _outcome(torch, f)
        assert e == t


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'bfloat16', 'float16'])
def test_type_string_in_version_error_as_pytorch(dtype):
    def run(L):
        a = L.ones(3, dtype=getattr(L, dtype), requires_grad=True)
        b = a * 1
        c = b.sin()
        b.add_(1)
        c.sum().backward()
    e, t = _outcome(ember, run), _outcome(torch, run)
    assert e[:2] == t[:2] == ('raise', 'RuntimeError')
    assert e[2].split('] is at')[0] == t[2].split('] is at')[0]


def test_typename_as_pytorch():
    for obj in (lambda L: L.ones(2), lambda L: L.nn.Linear(2, 2), lambda L: 5, lambda L: L.nn.Linear):
        assert ember.typename(obj(ember)) == torch.typename(obj(torch))

    def buffer(L):
        L.nn.Module().register_buffer('b', 5)
    assert _outcome(ember, buffer) == _outcome(torch, buffer)


# -- (1) the meta device ----------------------------------------------------------------------------------------
def _meta_summary(r):
    """What a meta result is: device, shape, dtype, grad_fn name, requires_grad."""
    return (str(r.device), tuple(r.shape), str(r.dtype), None if r.grad_fn is None else type(r.grad_fn).__name__,
            r.requires_grad)


def _meta_outcome(lib, f):
    try:
        r = f(lib)
    except Exception as e:   # noqa: BLE001 - the oracle's exception is what is compared
        return ('raise', type(e).__name__)
    return _meta_summary(r)


def _m(L, *shape, **kw):
    return L.empty(*shape, device='meta', **kw)


META_OPS = {
    'add': lambda L: _m(L, 4, 6) + _m(L, 4, 6), 'add_scalar': lambda L: _m(L, 4, 6) + 1,
    'add_0d_cpu': lambda L: _m(L, 4, 6) + L.tensor(2.0), 'exp': lambda L: _m(L, 4, 6).exp(),
    'relu': lambda L: L.nn.functional.relu(_m(L, 4, 6)), 'matmul': lambda L: _m(L, 4, 6) @ _m(L, 6, 3),
    'linear': lambda L: L.nn.functional.linear(_m(L, 4, 6), _m(L, 10, 6), _m(L, 10)),
    'conv2d': lambda L: L.nn.functional.conv2d(_m(L, 2, 3, 8, 8), _m(L, 5, 3, 2, 2), _m(L, 5), padding=1),
    'max_pool2d': lambda L: L.nn.functional.max_pool2d(_m(L, 2, 3, 8, 8), 2),
    'adaptive_avg_pool2d': lambda L: L.nn.functional.adaptive_avg_pool2d(_m(L, 2, 3, 8, 8), 1),
    'flatten': lambda L: _m(L, 2, 3, 8, 8).flatten(1), 'view': lambda L: _m(L, 4, 6).view(24),
    'sum': lambda L: _m(L, 4, 6).sum(), 'mean_dim': lambda L: _m(L, 4, 6).mean(1),
    'softmax': lambda L: _m(L, 4, 6).softmax(-1), 'cat': lambda L: L.cat([_m(L, 4, 6), _m(L, 2, 6)]),
    'getitem': lambda L: _m(L, 4, 6)[1:3, 0], 'double': lambda L: _m(L, 4, 6).double(),
    'to_half': lambda L: _m(L, 4, 6).to(L.float16), 'long': lambda L: _m(L, 4, 6).long(),
    'layer_norm': lambda L: L.nn.functional.layer_norm(_m(L, 4, 6), (6,)),
    'embedding': lambda L: L.nn.functional.embedding(_m(L, 3, dtype=L.int64), _m(L, 10, 6)),
    'sdpa': lambda L: L.nn.functional.scaled_dot_product_attention(_m(L, 2, 4, 6), _m(L, 2, 4, 6), _m(L, 2, 4, 6)),
    'contiguous': lambda L: _m(L, 4, 6).t().contiguous(), 'argmax': lambda L: _m(L, 4, 6).argmax(1),
    'einsum': lambda L: L.einsum('ij,kj->ik', _m(L, 4, 6), _m(L, 3, 6)), 'gelu': lambda L: L.nn.functional.gelu(
        _m(L, 4, 6)), 'where': lambda L: L.where(_m(L, 4, 6) > 0, _m(L, 4, 6), 0.0), 'eq': lambda L: _m(L, 4) == 1,
    'cross_entropy': lambda L: L.nn.functional.cross_entropy(_m(L, 4, 6), _m(L, 4, dtype=L.int64)),
    'bmm': lambda L: L.bmm(_m(L, 2, 3, 4), _m(L, 2, 4, 5)), 'topk': lambda L: _m(L, 4, 6).topk(2)[0],
    'max_dim_indices': lambda L: _m(L, 4, 6).max(1)[1], 'pad': lambda L: L.nn.functional.pad(_m(L, 2, 3, 4), (1, 2)),
    'interpolate': lambda L: L.nn.functional.interpolate(_m(L, 1, 2, 4, 4), scale_factor=2),
    'transformer_layer': lambda L: L.nn.TransformerEncoderLayer(6, 2, 12, device='meta')(_m(L, 5, 2, 6)),
    # requires_grad meta tensors record the graph; a backward gives meta gradients
    'graph': lambda L: (_m(L, 4, 6, requires_grad=True) * 2).sum(),
    'grad': lambda L: (lambda a: L.autograd.grad((a * a).sum(), a)[0])(_m(L, 4, 6, requires_grad=True)),
    'backward': lambda L: (lambda lin: (lin(_m(L, 4, 6)).sum().backward(), lin.weight.grad)[1])(
        L.nn.Linear(6, 2, device='meta')),
    # factories
    'zeros_int': lambda L: L.zeros(2, 3, dtype=L.int64, device='meta'), 'ones': lambda L: L.ones(3, device='meta'),
    'full': lambda L: L.full((2, 2), 3.0, device='meta'), 'arange': lambda L: L.arange(5, device='meta'),
    'randn': lambda L: L.randn(3, 4, device='meta'), 'rand_grad': lambda L: L.rand(3, device='meta',
                                                                                  requires_grad=True),
    'randint': lambda L: L.randint(0, 5, (3,), device='meta'), 'tensor': lambda L: L.tensor([1, 2], device='meta'),
    'eye': lambda L: L.eye(3, device='meta'), 'linspace': lambda L: L.linspace(0, 1, 5, device='meta'),
    'zeros_like': lambda L: L.zeros_like(_m(L, 2, 3)), 'randn_like': lambda L: L.randn_like(_m(L, 2, 3)),
    'zeros_like_cpu': lambda L: L.zeros_like(_m(L, 2, 3), device='cpu'), 'new_zeros': lambda L: _m(L, 2).new_zeros(4),
    'empty_like_cpu_to_meta': lambda L: L.empty_like(L.ones(2), device='meta'),
    'to_meta': lambda L: L.ones(2, 3).to('meta'), 'to_meta_dtype': lambda L: L.ones(2, 3).to('meta', L.float64),
    'in_context': lambda L: (lambda d: (d.__enter__(), L.ones(2), d.__exit__(None, None, None))[1])(L.device('meta')),
    'after_context': lambda L: (lambda d: (d.__enter__(), d.__exit__(None, None, None), L.ones(2))[2])(
        L.device('meta')),
    'cpu_context': lambda L: (lambda d: (d.__enter__(), L.ones(2), d.__exit__(None, None, None))[1])(L.device('cpu')),
    # refused as PyTorch refuses them
    'item': lambda L: _m(L, 1).item(), 'item_of_many': lambda L: _m(L, 2).item(), 'tolist': lambda L: _m(L, 2).tolist(),
    'numpy': lambda L: _m(L, 2).numpy(), 'cpu': lambda L: _m(L, 2).cpu(), 'to_cpu': lambda L: _m(L, 2).to('cpu'),
    'copy_to_cpu': lambda L: L.ones(2).copy_(_m(L, 2)), 'float': lambda L: float(_m(L, 1)),
    'bool': lambda L: bool(_m(L, 1)), 'allclose': lambda L: _m(L, 2).allclose(_m(L, 2)),
    'nonzero': lambda L: _m(L, 2, 3).nonzero(), 'mask': lambda L: _m(L, 4)[_m(L, 4) > 0],
    'masked_select': lambda L: _m(L, 4).masked_select(_m(L, 4) > 0), 'unique': lambda L: _m(L, 4).unique(),
    'equal': lambda L: L.equal(_m(L, 4), _m(L, 4)), 'asarray': lambda L: np.asarray(_m(L, 2)),
    'legacy_constructor': lambda L: L.Tensor(2, 3, device='meta'),
}


@pytest.mark.parametrize('name', sorted(META_OPS))
def test_meta_tensors_through_ops_as_pytorch(name):
    """Device, shape, dtype, grad_fn and requires_grad of the result (or the exception's type) as PyTorch's."""
    assert _meta_outcome(ember, META_OPS[name]) == _meta_outcome(torch, META_OPS[name])


def test_meta_refusals_name_the_op():
    for f, op in ((lambda: ember.empty(3, device='meta').nonzero(), 'nonzero'),
                  (lambda: ember.empty(3, device='meta').unique(), 'unique'),
                  (lambda: ember.empty(3, device='meta').masked_select(ember.empty(3, device='meta') > 0),
                   'masked_select')):
        with pytest.raises(NotImplementedError, match=op):
            f()
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='Tensor.item\\(\\) cannot be called on meta tensors'):
            lib.empty(1, device='meta').item()
        with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
            lib.empty(1, device='meta').numpy()
        with pytest.raises(NotImplementedError, match='Cannot copy out of meta tensor; no data!'):
            lib.empty(1, device='meta').tolist()


META_REPRS = {
    'float': lambda L: L.empty(3, 4, device='meta'), 'int64': lambda L: L.empty(3, dtype=L.int64, device='meta'),
    'bool': lambda L: L.empty(2, dtype=L.bool, device='meta'), 'scalar': lambda L: L.empty((), device='meta'),
    'empty': lambda L: L.empty(0, device='meta'), 'double': lambda L: L.empty(3, dtype=L.float64, device='meta'),
    'requires_grad': lambda L: L.empty(2, 3, device='meta', requires_grad=True),
    'grad_fn': lambda L: L.empty(2, 3, device='meta', requires_grad=True).sum(),
    'parameter': lambda L: L.nn.Linear(3, 4, device='meta').weight,
    'in_context': lambda L: (lambda d: (d.__enter__(), repr(L.ones(2)), d.__exit__(None, None, None))[1])(
        L.device('meta')),
}


@pytest.mark.parametrize('name', sorted(META_REPRS))
def test_meta_reprs_as_pytorch(name):
    e, t = META_REPRS[name](ember), META_REPRS[name](torch)
    assert repr(e) == repr(t) if not isinstance(t, str) else e == t
    if not isinstance(t, str):
        assert str(e) == str(t)


def test_meta_metadata_as_pytorch():
    for L in (ember, torch):
        m = L.empty(3, 4, device='meta')
        assert (m.is_meta, m.is_cpu, str(m.device), m.stride(), m.is_contiguous(), m.numel(), m.dim(),
                m.element_size(), m.data_ptr(), len(m), m.device == L.device('meta')) == \
            (True, False, 'meta', (4, 1), True, 12, 2, 4, 0, 3, True)


class _Net:
    """The "Reasoning about shapes" recipe's CNN, built on the library ``L``."""

    @staticmethod
    def make(L, **kw):
        nn = L.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5, **kw)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5, **kw)
                self.fc1 = nn.Linear(16 * 5 * 5, 120, **kw)
                self.fc2 = nn.Linear(120, 84, **kw)
                self.fc3 = nn.Linear(84, 10, **kw)

            def forward(self, x):
                x = self.pool(nn.functional.relu(self.conv1(x)))
                x = self.pool(nn.functional.relu(self.conv2(x)))
                x = L.flatten(x, 1)
                x = nn.functional.relu(self.fc1(x))
                x = nn.functional.relu(self.fc2(x))
                return self.fc3(x)
        return Net()


def _shapes_recipe(L):
    """Every module's output shape on a meta input (forward hooks), with the model moved to the meta device."""
    seen = []
    net = _Net.make(L).to(device='meta')
    for name, module in net.named_modules():
        module.register_forward_hook(lambda m, i, o, name=name: seen.append((name, tuple(o.shape), str(o.device))))
    out = net(L.randn((1024, 3, 32, 32), device='meta'))
    return seen, _meta_summary(out), [str(p.device) for p in net.parameters()]


def test_meta_shapes_recipe_as_pytorch():
    assert _shapes_recipe(ember) == _shapes_recipe(torch)


def _load_recipe(L, assign, way):
    """Build on the meta device, then give the model memory: load_state_dict(assign=True) or to_empty + load."""
    gen = np.random.default_rng(0)
    sd = {k: L.tensor(gen.standard_normal(tuple(v.shape)), dtype=L.float32)
          for k, v in _Net.make(L).state_dict().items()}
    if way == 'context':
        with L.device('meta'):
            net = _Net.make(L)
    else:
        net = _Net.make(L, device='meta')
    devices = {str(p.device) for p in net.parameters()}
    if assign:
        net.load_state_dict(sd, assign=True)
    else:
        net.to_empty(device='cpu')
        net.load_state_dict(sd)
    x = L.tensor(gen.standard_normal((2, 3, 32, 32)), dtype=L.float32)
    return devices, {str(p.device) for p in net.parameters()}, net(x).detach().numpy(), [
        type(p).__name__ for p in net.parameters()], [p.requires_grad for p in net.parameters()]


@pytest.mark.parametrize('assign', [True, False])
@pytest.mark.parametrize('way', ['context', 'device_kwarg'])
def test_meta_init_then_load_as_pytorch(assign, way):
    e, t = _load_recipe(ember, assign, way), _load_recipe(torch, assign, way)
    assert e[0] == t[0] == {'meta'} and e[1] == t[1] == {'cpu'}
    np.testing.assert_allclose(e[2], t[2], rtol=1e-4, atol=1e-5)
    assert e[3:] == t[3:]


def test_meta_load_without_assign_warns_and_keeps_meta_as_pytorch():
    for L in (ember, torch):
        net = L.nn.Linear(2, 3, device='meta')
        with pytest.warns(UserWarning, match='copying from a non-meta parameter in the checkpoint to a meta'):
            net.load_state_dict({'weight': L.ones(3, 2), 'bias': L.ones(3)})
        assert net.weight.is_meta


def test_meta_to_empty_and_module_moves_as_pytorch():
    def moves(L):
        net = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3)).to('meta')
        on_meta = {str(t.device) for t in list(net.parameters()) + list(net.buffers())}
        with pytest.raises(NotImplementedError, match='Cannot copy out of meta tensor'):
            net.cpu()
        with pytest.raises(NotImplementedError, match='Please use torch.nn.Module.to_empty'):
            net.to('cpu')
        dtypes = [str(t.dtype) for t in net.double().parameters()]
        net.to_empty(device='cpu')
        return on_meta, dtypes, {str(t.device) for t in list(net.parameters()) + list(net.buffers())}, [
            (k, tuple(t.shape), str(t.dtype)) for k, t in net.state_dict().items()]
    assert moves(ember) == moves(torch)


def test_meta_random_factories_draw_nothing_as_pytorch():
    """A model built on the meta device leaves the generator where it was (nothing drawn, in-place init too)."""
    def draws(L):
        L.manual_seed(0)
        L.randn(5, device='meta')
        L.nn.Linear(4, 4, device='meta')
        with L.device('meta'):
            L.nn.Conv2d(2, 2, 3)
        return L.rand(3).numpy()
    np.testing.assert_array_equal(draws(ember), draws(torch))


def test_meta_tensors_hold_no_memory():
    """A meta tensor of any shape views one element (no memory for its 10**12 elements)."""
    m = ember.empty(10 ** 6, 10 ** 6, device='meta')
    t = torch.empty(10 ** 6, 10 ** 6, device='meta')
    assert (m.shape, m.stride(), m.nelement()) == (t.shape, t.stride(), t.nelement())
    assert m._data.strides == (0, 0)     # every element is the one element it views
    assert ember.nn.Linear(10 ** 5, 10 ** 5, device='meta').weight._data.strides == (0, 0)


def test_cpu_ops_unaffected_after_meta_ops():
    """A CPU op after meta ops (one that raised included) gives a CPU tensor with PyTorch's values."""
    for L in (ember, torch):
        m = L.empty(3, device='meta')
        with pytest.raises(NotImplementedError):
            m.nonzero()
        (m * 2).sum()
        x = L.arange(4.0)
        r = [x * 2, x.argmax(), L.einsum('i,i->', x, x), x[x > 1]]
        assert [str(t.device) for t in r] == ['cpu'] * 4
        assert [t.tolist() for t in r] == [[0.0, 2.0, 4.0, 6.0], 3, 14.0, [2.0, 3.0]]


def test_set_default_device_meta_as_pytorch():
    def made(L):
        L.set_default_device('meta')
        try:
            return [_meta_summary(t) for t in (L.ones(2), L.nn.Linear(2, 3).weight, L.zeros_like(L.tensor([1.0]),
                                                                                                  device='cpu'))], \
                str(L.get_default_device())
        finally:
            L.set_default_device(None)
    assert made(ember) == made(torch)
    assert str(ember.get_default_device()) == 'cpu' and ember.ones(1).device == ember.device('cpu')
