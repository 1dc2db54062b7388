"""Names real scripts reach for that ember lacked (batch c): PyTorch's functional recurrent ops (torch.lstm, gru,
rnn_tanh, rnn_relu and their cells) and the smaller public names of torch and torch.Tensor. Each case runs the same
call on ember and on PyTorch: values, dtypes, shapes and grad_fn names of the outputs, the gradients of every input
that requires one, or the error's type and message."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _tensors(lib, arrays, dtype, grad):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=grad) for a in arrays]


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _run(lib, call, arrays, dtype, grad):
    ins = _tensors(lib, arrays, dtype, grad)
    out = _flat(call(lib, *ins))
    live = [o for o in out if o.requires_grad]
    if live:
        lib.autograd.backward(live, [lib.ones_like(o) * (k + 1) for k, o in enumerate(live)])
    return out, ins


def _same(call, arrays, dtype='float32', grad=True, atol=1e-5):
    """Run ``call(lib, *tensors)`` on both libraries and compare outputs, grad_fns and input gradients."""
    mine, my_ins = _run(ember, call, arrays, dtype, grad)
    ref, ref_ins = _run(torch, call, arrays, dtype, grad)
    assert len(mine) == len(ref)
    for a, b in zip(mine, ref):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=atol)
    for a, b in zip(my_ins, ref_ins):
        assert (a.grad is None) == (b.grad is None)
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=atol)


def _same_error(call, arrays, dtype='float32'):
    """Both libraries refuse ``call`` with the same exception type and message."""
    errors = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            call(lib, *_tensors(lib, arrays, dtype, False))
        errors.append((type(info.value).__name__, str(info.value)))
    assert errors[0] == errors[1]


# -- recurrent cells -----------------------------------------------------------------------------------------------
def _cell_shapes(gates, bias, batch=3, inp=4, hid=5, states=1):
    shapes = [(batch, inp)] + [(batch, hid)] * states + [(gates * hid, inp), (gates * hid, hid)]
    return shapes + ([(gates * hid,)] * 2 if bias else [])


def _lstm_cell(lib, x, h, c, *w):
    return lib.lstm_cell(x, (h, c), *w)


CELLS = [('lstm_cell', 4, 2), ('gru_cell', 3, 1), ('rnn_tanh_cell', 1, 1), ('rnn_relu_cell', 1, 1)]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('name,gates,states', CELLS)
def test_cells(name, gates, states, bias, dtype):
    call = _lstm_cell if name == 'lstm_cell' else (lambda lib, *a: getattr(lib, name)(*a))
    _same(call, _arrays(gates, *_cell_shapes(gates, bias, states=states)), dtype)


CELL_ERRORS = [
    ('lstm one state', lambda lib, x, h, c, wi, wh: lib.lstm_cell(x, (h,), wi, wh), 4, (3, 5), (3, 5)),
    ('lstm batch', lambda lib, x, h, c, wi, wh: lib.lstm_cell(x, (h[:2], c), wi, wh), 4, (3, 5), (3, 5)),
    ('lstm c width', lambda lib, x, h, c, wi, wh: lib.lstm_cell(x, (h, c[:, :4]), wi, wh), 4, (3, 5), (3, 5)),
    ('lstm gate rows', lambda lib, x, h, c, wi, wh: lib.lstm_cell(x, (h, c), wi[:15], wh[:15]), 4, (3, 5), (3, 5)),
    ('gru batch', lambda lib, x, h, c, wi, wh: lib.gru_cell(x, h[:2], wi, wh), 3, (3, 5), (3, 5)),
    ('rnn input width', lambda lib, x, h, c, wi, wh: lib.rnn_tanh_cell(x[:, :3], h, wi, wh), 1, (3, 5), (3, 5)),
    ('rnn 3-D input', lambda lib, x, h, c, wi, wh: lib.rnn_tanh_cell(x[None], h, wi, wh), 1, (3, 5), (3, 5)),
    ('rnn 1-D input', lambda lib, x, h, c, wi, wh: lib.rnn_relu_cell(x[0], h[0], wi, wh), 1, (3, 5), (3, 5)),
    ('gru hidden None', lambda lib, x, h, c, wi, wh: lib.gru_cell(x, None, wi, wh), 3, (3, 5), (3, 5)),
]


@pytest.mark.parametrize('what,call,gates,hshape,cshape', CELL_ERRORS, ids=[e[0] for e in CELL_ERRORS])
def test_cell_errors(what, call, gates, hshape, cshape):
    _same_error(call, _arrays(0, (3, 4), hshape, cshape, (gates * 5, 4), (gates * 5, 5)))


# -- whole recurrent nets ------------------------------------------------------------------------------------------
def _net_shapes(gates, bias, layers, dirs, T=4, B=3, I=4, H=5, states=1, proj=0):
    shapes = [(T, B, I)] + [(layers * dirs, B, proj or H)] + ([(layers * dirs, B, H)] if states == 2 else [])
    for layer in range(layers):
        for _ in range(dirs):
            width = I if layer == 0 else (proj or H) * dirs
            shapes += [(gates * H, width), (gates * H, proj or H)] + ([(gates * H,)] * 2 if bias else [])
            shapes += [(proj, H)] if proj else []
    return shapes


def _net_call(name, bias, layers, dirs, batch_first, states):
    def call(lib, x, *rest):
        hx = (rest[0], rest[1]) if states == 2 else rest[0]
        params = list(rest[states:])
        x = x.transpose(0, 1) if batch_first else x
        return getattr(lib, name)(x, hx, params, bias, layers, 0.0, False, dirs == 2, batch_first)
    return call


NETS = [('lstm', 4, 2), ('gru', 3, 1), ('rnn_tanh', 1, 1), ('rnn_relu', 1, 1)]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('bias,layers,dirs,batch_first', [(True, 1, 1, False), (False, 2, 2, False),
                                                          (True, 2, 1, True), (True, 1, 2, True)])
@pytest.mark.parametrize('name,gates,states', NETS)
def test_nets(name, gates, states, bias, layers, dirs, batch_first, dtype):
    _same(_net_call(name, bias, layers, dirs, batch_first, states),
          _arrays(layers * dirs, *_net_shapes(gates, bias, layers, dirs, states=states)), dtype)


@pytest.mark.parametrize('dirs', [1, 2])
def test_lstm_projection(dirs):
    """A fifth weight per layer and direction is the LSTM's projection w_hr (h_n of width proj_size)."""
    _same(_net_call('lstm', True, 2, dirs, False, 2),
          _arrays(7, *_net_shapes(4, True, 2, dirs, states=2, proj=3)), 'float64')


@pytest.mark.parametrize('name,gates,states', NETS)
def test_nets_packed(name, gates, states):
    """The packed overload (data, batch_sizes, hx, params, ...): sequences of lengths 4, 3, 1."""
    sizes = [3, 2, 2, 1]

    def call(lib, x, *rest):
        hx = (rest[0], rest[1]) if states == 2 else rest[0]
        data = lib.cat([x[t, :n] for t, n in enumerate(sizes)], 0)
        return getattr(lib, name)(data, lib.tensor(sizes), hx, list(rest[states:]), True, 2, 0.0, False, True)
    _same(call, _arrays(3, *_net_shapes(gates, True, 2, 2, states=states)), 'float64')


def test_net_dropout_between_layers():
    """train=True with dropout draws the between-layer masks from the generator as PyTorch's."""
    def seeded(lib, x, h, *w):
        lib.manual_seed(0)
        return lib.gru(x, h, list(w), True, 3, 0.5, True, False, False)
    _same(seeded, _arrays(1, *_net_shapes(3, True, 3, 1)), 'float64')


NET_ERRORS = [
    ('lstm one state', lambda lib, x, h, wi, wh: lib.lstm(x, (h,), [wi, wh], False, 1, 0., False, False, False)),
    ('too few states', lambda lib, x, h, wi, wh: lib.gru(x, h, [wi, wh, wi, wh], False, 2, 0., False, False, False)),
]


@pytest.mark.parametrize('what,call', NET_ERRORS, ids=[e[0] for e in NET_ERRORS])
def test_net_errors(what, call):
    _same_error(call, _arrays(0, (2, 3, 4), (1, 3, 5), (15, 4), (15, 5)))


# -- sub-byte and bit-pattern dtypes -------------------------------------------------------------------------------
SUB_BYTE = [f'{k}{n}' for k in ('uint', 'int') for n in range(1, 8)] + \
    ['bits1x8', 'bits2x4', 'bits4x2', 'bits8', 'bits16', 'float4_e2m1fn_x2']


@pytest.mark.parametrize('name', SUB_BYTE)
def test_sub_byte_dtypes(name):
    """Named as PyTorch's (repr, itemsize, flags, is_signed or its error, pickling to the same object); a copy into
    one refuses with PyTorch's NotImplementedError."""
    import pickle
    mine, ref = getattr(ember, name), getattr(torch, name)
    assert (repr(mine), mine.itemsize, mine.is_floating_point, mine.is_complex) == \
        (repr(ref), ref.itemsize, ref.is_floating_point, ref.is_complex)
    signed = []
    for d in (mine, ref):
        try:
            signed.append(d.is_signed)
        except RuntimeError as e:
            signed.append(str(e))
    assert signed[0] == signed[1]
    assert pickle.loads(pickle.dumps(mine)) is mine
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError):
            lib.ones(2).to(getattr(lib, name))


# -- build flags and small torch helpers ---------------------------------------------------------------------------
def test_build_flags_match_ember_backends():
    """ember's flags say what its build has (NumPy's LAPACK and FFT; no MKL, OpenMP, Vulkan), agreeing with its
    torch.backends; the types and the ABI answer are PyTorch's."""
    assert (ember.has_mkl, ember.has_openmp) == (ember.backends.mkl.is_available(), ember.backends.openmp.is_available())
    assert ember.has_lapack is True and ember.has_spectral is True
    for name in ('has_mkl', 'has_lapack', 'has_openmp', 'has_spectral'):
        assert type(getattr(ember, name)) is type(getattr(torch, name))
    assert ember.is_vulkan_available() is torch.is_vulkan_available() is False
    assert ember.compiled_with_cxx11_abi() is torch.compiled_with_cxx11_abi()
    assert ember.init_num_threads() is torch.init_num_threads() is None


@pytest.mark.parametrize('call', [
    lambda lib: lib.is_distributed(lib.ones(2)),
    lambda lib: lib.wait(lib.fork(lambda a, b=0: a * 10 + b, 2, b=3)),
    lambda lib: type(lib.fork(lambda: 1)).__name__,
    lambda lib: lib.get_file_path('a', 'b').split('/')[-2:],
    lambda lib: lib.from_dlpack(lib.to_dlpack(lib.arange(4.))).tolist(),
])
def test_small_helpers(call):
    assert call(ember) == call(torch)


@pytest.mark.parametrize('call', [lambda lib: lib.is_distributed(3), lambda lib: lib.wait(3)])
def test_small_helper_errors(call):
    _same_error(lambda lib: call(lib), [])


def test_export_refuses_by_name():
    """torch.export imports; export() refuses, saying what PyTorch's does and what to do instead."""
    import ember.export
    with pytest.raises(NotImplementedError, match='torch.export.export .*ExportedProgram.*call the module itself'):
        ember.export.export(ember.nn.Linear(2, 2), (ember.ones(1, 2),))


# -- Tensor methods ------------------------------------------------------------------------------------------------
TENSOR_CALLS = [
    ('resize', lambda lib, x: x.resize(3, 2)),
    ('resize_as', lambda lib, x: x.resize_as(lib.ones(3, 2))),
    ('module_load', lambda lib, x: x.detach().clone().module_load(x.detach() * 2)),
    ('map2_', lambda lib, x: x.detach().clone().map2_(x.detach(), x.detach()[0], lambda a, b, c: a + b * c)),
]


@pytest.mark.parametrize('what,call', TENSOR_CALLS, ids=[c[0] for c in TENSOR_CALLS])
def test_tensor_methods(what, call):
    with pytest.warns(UserWarning) if what.startswith('resize') else _nothing():
        _same(call, _arrays(0, (2, 3)), 'float64')


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


TENSOR_QUERIES = [
    lambda lib, x: x.name, lambda lib, x: str(x.grad_dtype), lambda lib, x: x.const_data_ptr() == x.data_ptr(),
    lambda lib, x: (x.is_set_to(x), x.is_set_to(x.view(6)), x.is_set_to(x.clone()), x.is_set_to(x[:]),
                    x.is_set_to(x.t())),
    lambda lib, x: (x.dense_dim(), x.sparse_dim(), x.to_sparse().dense_dim(), x.to_sparse().sparse_dim()),
]


@pytest.mark.parametrize('k', range(len(TENSOR_QUERIES)))
def test_tensor_queries(k):
    assert TENSOR_QUERIES[k](ember, ember.ones(2, 3)) == TENSOR_QUERIES[k](torch, torch.ones(2, 3))


def test_volatile_warns_false():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match=r'volatile was removed \(Variable.volatile is always False\)'):
            assert lib.ones(1).volatile is False


TENSOR_ERRORS = [
    ('resize count', lambda lib, x: x.resize(4)), ('xpu', lambda lib, x: x.xpu()), ('ipu', lambda lib, x: x.ipu()),
    ('mtia', lambda lib, x: x.mtia()), ('record_stream', lambda lib, x: x.record_stream(None)),
    ('map2_ grad', lambda lib, x: x.requires_grad_().map2_(x, x, max)),
]


@pytest.mark.parametrize('what,call', TENSOR_ERRORS, ids=[c[0] for c in TENSOR_ERRORS])
def test_tensor_errors(what, call):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _same_error(call, _arrays(0, (2, 3)))


def test_chalf_and_to_mkldnn_refuse():
    """ember holds no complex32 or mkldnn tensors: both refuse by name (PyTorch makes them)."""
    with pytest.raises(NotImplementedError, match='complex32'):
        ember.ones(2).chalf()
    with pytest.raises(NotImplementedError, match='to_mkldnn'):
        ember.ones(2).to_mkldnn()


# -- ATen's native entry points ------------------------------------------------------------------------------------
NATIVE = [
    ('convolution 1d', lambda lib, x, w, b: lib.convolution(x, w, b, [2], [1], [1], False, [0], 1), (2, 3, 8), (4, 3, 3), (4,)),
    ('convolution 2d groups', lambda lib, x, w, b: lib.convolution(x, w, b, [1, 1], [1, 0], [1, 2], False, [0, 0], 3),
     (2, 3, 6, 7), (6, 1, 3, 2), (6,)),
    ('convolution transposed', lambda lib, x, w, b: lib.convolution(x, w, None, [2, 2], [1, 1], [1, 1], True, [1, 0], 1),
     (2, 3, 4, 5), (3, 2, 3, 3), (2,)),
    ('native_layer_norm', lambda lib, x, w, b: lib.native_layer_norm(x, [3, 4], w, b, 1e-5), (2, 5, 3, 4), (3, 4), (3, 4)),
    ('native_layer_norm no affine', lambda lib, x, w, b: lib.native_layer_norm(x, [4], None, None, 1e-3),
     (2, 3, 4), (1,), (1,)),
    ('native_batch_norm train', lambda lib, x, w, b: lib.native_batch_norm(
        x, w, b, lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype), True, 0.1, 1e-5), (4, 3, 5), (3,), (3,)),
    ('native_batch_norm eval', lambda lib, x, w, b: lib.native_batch_norm(
        x, w, b, lib.full((3,), 0.5, dtype=x.dtype), lib.full((3,), 2.0, dtype=x.dtype), False, 0.1, 1e-5),
     (4, 3, 5, 2), (3,), (3,)),
    ('max_pool1d_with_indices', lambda lib, x, w, b: lib.max_pool1d_with_indices(x, 3, 2, 1), (2, 3, 9), (1,), (1,)),
    ('max_pool1d_with_indices ceil', lambda lib, x, w, b: lib.max_pool1d_with_indices(x, [2], [], [0], [2], True),
     (2, 3, 8), (1,), (1,)),
]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('what,call,xs,ws,bs', NATIVE, ids=[n[0] for n in NATIVE])
def test_native_ops(what, call, xs, ws, bs, dtype):
    _same(call, _arrays(5, xs, ws, bs), dtype, atol=1e-4 if dtype == 'float32' else 1e-7)


INPLACE_FORMS = [
    lambda lib: (lambda x: (lib.conj_physical_(x) is x, x.tolist()))(lib.tensor([1 + 2j, -3j])),
    lambda lib: (lambda x: (lib.as_strided_(x, (2, 2), (1, 2)) is x, x.tolist()))(lib.arange(6.)),
    lambda lib: (lambda x: (lib.as_strided_(x, (2,), (2,), 1) is x, x.tolist()))(lib.arange(6.)),
    lambda lib: (lambda x: (lib.resize_as_(x, lib.ones(3)) is x, tuple(x.shape)))(lib.zeros(5, 3)),
]


@pytest.mark.parametrize('k', range(len(INPLACE_FORMS)))
def test_inplace_function_forms(k):
    """torch's function forms of the in-place methods return their (changed) input, as PyTorch's."""
    assert INPLACE_FORMS[k](ember) == INPLACE_FORMS[k](torch)


# -- the remaining *_copy forms ------------------------------------------------------------------------------------
def _outcome(lib, call):
    """What ``call(lib)`` gives, as text: the result's repr (and contiguity), or the error's type and first line."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            out = call(lib)
        except Exception as e:
            return f'{type(e).__name__}: {str(e).splitlines()[0][:120]}'
    return f'{out!r} {out.is_contiguous() if hasattr(out, "is_contiguous") else ""}'


def _dense(lib):
    return lib.tensor([[0, 1., 0], [2, 0, 3]])


def _x(lib, grad=True):
    return lib.arange(12., dtype=lib.float64).reshape(3, 2, 2).requires_grad_(grad)


COPY_CALLS = [lambda lib, n=n, k=k: getattr(lib, n + '_copy')(
    [_dense(lib), _dense(lib).to_sparse_csr(), _dense(lib).to_sparse_csc(), _dense(lib).to_sparse()][k])
    for n in ('values', 'indices', 'crow_indices', 'col_indices', 'ccol_indices', 'row_indices') for k in range(4)]
COPY_CALLS += [
    lambda lib: lib.detach_copy(_x(lib)), lambda lib: lib.detach_copy(_x(lib)).grad_fn.name(),
    lambda lib: lib.detach_copy(_x(lib)).sum().backward(), lambda lib: lib.detach_copy(_x(lib, False)),
    lambda lib: lib.view_as_complex_copy(_x(lib)), lambda lib: lib.view_as_complex_copy(_x(lib, False).transpose(0, 1)),
    lambda lib: lib.view_as_complex_copy(_x(lib, False).transpose(0, 2)),
    lambda lib: lib.view_as_real_copy(lib.view_as_complex(_x(lib)).t()), lambda lib: lib.view_as_real_copy(_x(lib)),
    lambda lib: lib.detach_copy(1), lambda lib: lib.values_copy([1.]), lambda lib: lib.view_as_real_copy(None),
    lambda lib: lib.view_as_complex_copy(1),
]


@pytest.mark.parametrize('k', range(len(COPY_CALLS)))
def test_copy_forms(k):
    """detach_copy (PyTorch's NotImplemented node where input requires grad), view_as_real_copy/view_as_complex_copy
    (no derivative for a complex output), the sparse accessors' copies (CSR/CSC; strided and COO refuse)."""
    assert _outcome(ember, COPY_CALLS[k]) == _outcome(torch, COPY_CALLS[k])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_view_as_real_copy_gradient(dtype):
    _same(lambda lib, x: lib.view_as_real_copy(lib.view_as_complex(x).t() * 2), _arrays(2, (3, 4, 2)), dtype)


# -- more of ATen's native entry points ----------------------------------------------------------------------------
def _bag_call(mode, **kw):
    def call(lib, w, psw=None):
        idx, off = lib.tensor(kw.pop('idx', [1, 2, 4, 5, 4, 3])), lib.tensor(kw.pop('off', [0, 2, 2]))
        args = [kw.get(k, d) for k, d in (('by_freq', False), ('sparse', False))]
        return lib.embedding_bag(w, idx.to(kw.get('itype', lib.int64)), off, args[0], mode, args[1],
                                 psw if kw.get('psw') else None, kw.get('last', False), kw.get('pad'))
    return call


NATIVE_B = [
    ('native_group_norm', lambda lib, x, w, b: lib.native_group_norm(x, w, b, 2, 6, 12, 3, 1e-5), (2, 6, 3, 4), (6,),
     (6,)),
    ('native_group_norm regrouped', lambda lib, x, w, b: lib.native_group_norm(x, None, None, 3, 4, 6, 2, 1e-3),
     (2, 6, 3, 2), (1,), (1,)),
    ('affine_grid_generator 2d', lambda lib, t, w, b: lib.affine_grid_generator(t, [2, 3, 4, 5], False), (2, 2, 3),
     (1,), (1,)),
    ('affine_grid_generator 3d', lambda lib, t, w, b: lib.affine_grid_generator(t, [2, 1, 3, 4, 2], True), (2, 3, 4),
     (1,), (1,)),
    ('grid_sampler', lambda lib, x, g, b: lib.grid_sampler(x, g.tanh(), 0, 0, False), (2, 3, 4, 5), (2, 3, 3, 2), (1,)),
    ('grid_sampler_2d bicubic border', lambda lib, x, g, b: lib.grid_sampler_2d(x, g.tanh() * 1.2, 2, 1, True),
     (2, 3, 4, 5), (2, 3, 3, 2), (1,)),
    ('grid_sampler_3d reflection', lambda lib, x, g, b: lib.grid_sampler_3d(x, g.tanh() * 1.3, 0, 2, False),
     (2, 3, 4, 5, 2), (2, 3, 3, 2, 3), (1,)),
    ('grid_sampler_3d nearest', lambda lib, x, g, b: lib.grid_sampler(x, g.tanh(), 1, 0, True),
     (2, 3, 4, 5, 2), (2, 3, 3, 2, 3), (1,)),
    ('slice_inverse', lambda lib, s, x, b: (lambda y: lib.slice_inverse(y[:, 1:4], y, 1, 1, 4))(x * 2), (1,), (2, 6, 3),
     (1,)),
    ('slice_inverse step', lambda lib, s, x, b: (lambda y: lib.slice_inverse(y[::2], y, 0, 0, None, 2))(x * 2), (1,),
     (5, 3), (1,)),
]
NATIVE_B += [(f'embedding_bag {m} {k}', lambda lib, w, p, b, m=m, kw=kw: _bag_call(m, **dict(kw))(lib, w, p), (10, 3),
              (6,), (1,)) for m in (0, 1, 2) for k, kw in (
    ('', {}), ('last', {'last': True, 'off': [0, 2, 6]}), ('pad', {'pad': 4}), ('int32', {'itype': 'int32'}),
    ('negative pad', {'pad': -6}))]
NATIVE_B += [('embedding_bag max by_freq', lambda lib, w, p, b: _bag_call(2, by_freq=True)(lib, w, p), (10, 3), (6,),
              (1,))]
NATIVE_B += [('embedding_bag per_sample_weights', lambda lib, w, p, b: _bag_call(0, psw=True)(lib, w, p), (10, 3),
              (6,), (1,))]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('what,call,xs,ws,bs', NATIVE_B, ids=[n[0] for n in NATIVE_B])
def test_native_ops_b(what, call, xs, ws, bs, dtype):
    def fixed(lib, *ts):   # the int32 case's dtype by name
        return call(lib, *[t for t in ts]) if 'int32' not in what else _bag_call(
            int(what.split()[1]), itype=lib.int32)(lib, ts[0], ts[1])
    _same(fixed, _arrays(6, xs, ws, bs), dtype, atol=1e-4 if dtype == 'float32' else 1e-7)


def _dropped(p, train):
    def call(lib, x):
        lib.manual_seed(3)
        return lib.native_dropout(x.transpose(0, 1), p, train)
    return call


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('p,train', [(0.3, True), (0.5, None), (0.3, False), (0.0, True), (1.0, True)])
def test_native_dropout(p, train, dtype):
    """The mask drawn as dropout's (in the input's memory order), NativeDropoutBackward0 in and out of training."""
    _same(_dropped(p, train), _arrays(4, (5, 7, 3)), dtype)


def _ctc(reduction, tensors=False, zero_infinity=False, short=False):
    def call(lib, x):
        lengths = ([6, 5], [3, 2]) if not short else ([2, 5], [3, 2])
        if tensors:
            lengths = tuple(lib.tensor(v) for v in lengths)
        args = (x.log_softmax(2), lib.tensor([[1, 2, 2], [3, 1, 0]]), *lengths, 0)
        if reduction == 'default':
            return lib.ctc_loss(*args)
        return lib.ctc_loss(*args, reduction, zero_infinity)
    return call


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', [('default',), (0,), (1,), (2,), (1, True), (0, True, True, True),
                                  (2, False, True, True)], ids=str)
def test_ctc_loss_codes(case, dtype):
    """torch.ctc_loss's integer reduction (1 mean, 2 sum, left out: none, as PyTorch's binding), lengths as lists or
    tensors, zero_infinity on an impossible alignment."""
    _same(_ctc(*case), _arrays(8, (6, 2, 4)), dtype)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_batch_norm_update_stats(dtype):
    """(mean, unbiased var) per channel, the running statistics blended in place; a NotImplemented node with grad."""
    def call(lib, x, rm, rv):
        out = lib.batch_norm_update_stats(x, rm, rv, 0.2)
        return out + (rm, rv)
    _same(call, _arrays(9, (4, 3, 5), (3,), (3,)), dtype, grad=False)
    for lib in (ember, torch):
        x = lib.ones(2, 3, 2, requires_grad=True)
        assert [o.grad_fn.name() for o in lib.batch_norm_update_stats(x, None, None, 0.1)] == \
            ['torch::autograd::NotImplemented'] * 2


NATIVE_OUTCOMES = [
    lambda lib: lib.native_norm(lib.arange(-3., 3.).reshape(2, 3).to_sparse()),
    lambda lib: lib.native_norm(lib.arange(-3., 3.).reshape(2, 3).to_sparse(), 3, [0, 1], False, None),
    lambda lib: lib.native_norm(lib.arange(-3., 3.).reshape(2, 3).to_sparse().requires_grad_()).grad_fn.name(),
    lambda lib: lib.native_norm(lib.ones(2).to_sparse(), 2, [0], True, None),
    lambda lib: lib.native_norm(lib.ones(2, 2).to_sparse(), 2, [0], False, None),
    lambda lib: lib.native_norm(lib.ones(2).to_sparse(), 2, [0], False, lib.float64),
    lambda lib: lib.native_norm(lib.ones(2)),
    lambda lib: lib.batch_norm_stats(lib.ones(2, 3), 1e-5),
    lambda lib: lib.batch_norm_elemt(lib.ones(2, 3), None, None, lib.ones(3), lib.ones(3), 1e-5),
    lambda lib: lib.batch_norm_gather_stats(lib.ones(2, 3), lib.ones(1, 3), lib.ones(1, 3), None, None, 0.1, 1e-5, 2),
    lambda lib: lib.batch_norm_gather_stats_with_counts(lib.ones(2, 3), lib.ones(1, 3), lib.ones(1, 3), None, None,
                                                        0.1, 1e-5, lib.ones(1)),
    lambda lib: lib.batch_norm_backward_reduce(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3), lib.ones(3), None, True,
                                               True, True),
    lambda lib: lib.batch_norm_backward_elemt(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3), lib.ones(3), None,
                                              lib.ones(3), lib.ones(3), lib.ones(1, dtype=lib.int32)),
    lambda lib: lib.batch_norm_elemt(lib.ones(2, 3), 1, None, lib.ones(3), lib.ones(3), 1e-5),
    lambda lib: lib.native_dropout(lib.ones(3), 1.5, True),
    lambda lib: lib.native_group_norm(lib.ones(2, 6, 3), None, None, 2, 6, 4, 3, 1e-5),
    lambda lib: lib.native_group_norm(lib.ones(2, 6, 3), None, None, 2, 6, 3, 4, 1e-5),
    lambda lib: lib.native_group_norm(lib.ones(2, 6, 3), lib.ones(5), None, 2, 6, 3, 3, 1e-5),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), lib.tensor([0]), False, 3),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), lib.tensor([0]), False, 1, False, lib.ones(2)),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), lib.tensor([[0]])),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), lib.tensor([0]), False, 0, False, lib.ones(3)),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), None),
    lambda lib: lib.embedding_bag(lib.ones(5, 2), lib.tensor([1., 2]), lib.tensor([0])),
    lambda lib: [t.dtype for t in lib.embedding_bag(lib.ones(5, 2), lib.tensor([1, 2]), lib.tensor([0]).int())],
    lambda lib: lib.ctc_loss(lib.ones(3, 1, 2), lib.ones(1, 1).long(), [3], lib.tensor([1])),
    lambda lib: lib.affine_grid_generator(lib.ones(2, 2, 3), [2, 3, 4], False),
    lambda lib: lib.affine_grid_generator(lib.ones(2, 3, 3), [2, 3, 4, 5], False),
    lambda lib: lib.affine_grid_generator(lib.ones(2, 2, 4), [2, 3, 4, 5], False),
    lambda lib: lib.affine_grid_generator(lib.ones(3, 2, 3), [2, 3, 4, 5], False),
    lambda lib: lib.affine_grid_generator(lib.ones(2, 2, 3), [2, 3, 4, 5, 6], False),
    lambda lib: lib.grid_sampler_2d(lib.ones(1, 1, 2, 2, 2), lib.ones(1, 1, 1, 1, 3), 0, 0, False),
    lambda lib: lib.grid_sampler_3d(lib.ones(1, 1, 2, 2), lib.ones(1, 1, 1, 2), 0, 0, False),
    lambda lib: lib.grid_sampler(lib.ones(1, 1, 2, 2, 2), lib.ones(1, 1, 1, 1, 3), 2, 0, False),
    lambda lib: lib.slice_inverse(lib.ones(3), lib.ones(4), 0),
    lambda lib: (lambda y: (lib.slice_inverse(y[1:3], y, 0, 1, 3)._base is y, lib.slice_inverse(y[1:3], y, 0, 1, 3)))(
        lib.arange(5.)),
]


@pytest.mark.parametrize('k', range(len(NATIVE_OUTCOMES)))
def test_native_outcomes(k):
    """native_norm (sparse COO only), SyncBatchNorm's CUDA-only kernels refused as PyTorch's CPU build, and the
    errors of the native ops above."""
    assert _outcome(ember, NATIVE_OUTCOMES[k]) == _outcome(torch, NATIVE_OUTCOMES[k])


# -- ormqr ---------------------------------------------------------------------------------------------------------
ORMQR_SIDES = [(True, False), (True, True), (False, False), (False, True)]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('left,transpose', ORMQR_SIDES)
def test_ormqr(left, transpose, dtype):
    """Q C, Q^H C, C Q, C Q^H of geqrf-style reflectors (batched), OrmqrBackward0's gradients for all three inputs."""
    c_shape = (2, 5, 4) if left else (2, 4, 5)
    _same(lambda lib, a, tau, c: lib.ormqr(a, tau, c, left, transpose), _arrays(11, (2, 5, 3), (2, 3), c_shape), dtype,
          atol=1e-4 if dtype == 'float32' else 1e-7)


@pytest.mark.parametrize('left,transpose', ORMQR_SIDES)
def test_ormqr_gradcheck_and_complex(left, transpose):
    """Finite differences in float64 (double backward too); complex reflectors against PyTorch."""
    a, tau = (ember.tensor(v, requires_grad=True) for v in _arrays(12, (4, 3), (3,)))
    c = ember.tensor(_arrays(13, (4, 2) if left else (2, 4))[0], requires_grad=True)
    fn = lambda a, tau, c: ember.ormqr(a, tau, c, left, transpose)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (a, tau, c)) and ember.autograd.gradgradcheck(fn, (a, tau, c))

    def cplx(lib, a, tau, c):
        z = [lib.complex(t, t.flip(0).sin()) for t in (a, tau, c)]
        return lib.ormqr(*z, left, transpose).abs()
    _same(cplx, _arrays(14, (4, 3), (3,), (4, 2) if left else (2, 4)), 'float64', atol=1e-7)


ORMQR_ERRORS = [
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3), lib.ones(4, 2)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(4), lib.ones(5, 2)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(2), lib.ones(5, 2)),
    lambda lib: lib.ormqr(lib.ones(3), lib.ones(3), lib.ones(5, 2)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3), lib.ones(5)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3), lib.ones(2, 4), False),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3, dtype=lib.float64), lib.ones(5, 2)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3), lib.ones(5, 2, dtype=lib.float64)),
    lambda lib: lib.ormqr(lib.ones(5, 3, dtype=lib.int32), lib.ones(3, dtype=lib.int32),
                          lib.ones(5, 2, dtype=lib.int32)),
    lambda lib: lib.ormqr(lib.ones(2, 5, 3), lib.ones(3), lib.ones(2, 5, 2)),
    lambda lib: lib.ormqr(lib.ones(5, 3), lib.ones(3), lib.ones(2, 5, 2)),
    lambda lib: lib.ormqr(lib.ones(2, 5, 3), lib.ones(3, 3), lib.ones(2, 5, 2)),
    lambda lib: lib.ormqr(lib.ones(2, 5, 3), lib.ones(2, 3), lib.ones(3, 5, 2)),
    lambda lib: lib.ones(5, 3).ormqr(lib.ones(3), lib.ones(5, 2), False, True),
    lambda lib: lib.ones(5, 3).ormqr(1, lib.ones(5, 2)),
    lambda lib: (lambda o: (lib.ormqr(lib.ones(3, 3), lib.ones(3), lib.ones(3, 2), out=o) is o, o.stride()))(
        lib.empty(3, 2)),
]


@pytest.mark.parametrize('k', range(len(ORMQR_ERRORS)))
def test_ormqr_outcomes(k):
    assert _outcome(ember, ORMQR_ERRORS[k]) == _outcome(torch, ORMQR_ERRORS[k])


# -- smaller names: hash_tensor, embedding_renorm_, Python 2's operator names, the deprecated autocast forms -------
def _rows(lib):
    return lib.arange(15., dtype=lib.float64).reshape(5, 3) / 4


_HASHED = lambda lib: lib.arange(-3, 9).reshape(3, 4)  # noqa: E731
SMALL_NAMES = [
    lambda lib: lib.hash_tensor(_HASHED(lib)), lambda lib: lib.hash_tensor(_HASHED(lib), 1),
    lambda lib: lib.hash_tensor(_HASHED(lib), [0], keepdim=True), lambda lib: lib.hash_tensor(_HASHED(lib).float() / 3),
    lambda lib: lib.hash_tensor(_HASHED(lib).double() / 3, (0, 1)), lambda lib: lib.hash_tensor(_HASHED(lib) > 2),
    lambda lib: lib.hash_tensor(_HASHED(lib).to(lib.int8), 1),
    lambda lib: lib.hash_tensor(_HASHED(lib).to(lib.uint8), 1),
    lambda lib: lib.hash_tensor(_HASHED(lib).half(), 1), lambda lib: lib.hash_tensor(_HASHED(lib).bfloat16(), 1),
    lambda lib: lib.hash_tensor(lib.ones(0, 3), 0), lambda lib: lib.hash_tensor(lib.ones(0, 3)),
    lambda lib: lib.hash_tensor(_HASHED(lib), mode=1), lambda lib: lib.hash_tensor(_HASHED(lib), 2),
    lambda lib: lib.hash_tensor(lib.tensor(5)), lambda lib: _HASHED(lib).hash_tensor(1),
    lambda lib: lib.hash_tensor(lib.ones(2, dtype=lib.complex64)),
    lambda lib: lib.hash_tensor(_HASHED(lib).float().requires_grad_()), lambda lib: lib.hash_tensor(1),
    lambda lib: (lambda v: (lib.embedding_renorm_(v, lib.tensor([1, 3, 1]), 2.0, 2.0) is v, v))(_rows(lib)),
    lambda lib: lib.embedding_renorm_(_rows(lib), lib.tensor([0, 4]).int(), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib), lib.tensor([0., 4]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib)[0], lib.tensor([0]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib), lib.tensor([7]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib).requires_grad_(), lib.tensor([1]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib).requires_grad_() * 1, lib.tensor([1]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(_rows(lib).requires_grad_() * 1, lib.tensor([1]), 1.5, 1.0).sum().backward(),
    lambda lib: lib.embedding_renorm_(_rows(lib).int(), lib.tensor([1]), 1.5, 1.0),
    lambda lib: lib.embedding_renorm_(1, lib.tensor([1]), 1.5, 1.0),
    lambda lib: lib.tensor([4., 6.]).__div__(2), lambda lib: lib.tensor([4., 6.]).__rdiv__(12),
    lambda lib: (lambda v: (v.__idiv__(2) is v, v))(lib.tensor([4., 6.])), lambda lib: lib.tensor(3.7).__long__(),
    lambda lib: lib.tensor([1]).__nonzero__(), lambda lib: lib.ones(2).__nonzero__(),
    lambda lib: lib.ones(2).__long__(),
    lambda lib: lib.tensor(3.7, requires_grad=True).__rdiv__(2).grad_fn.name(),
]


@pytest.mark.parametrize('k', range(len(SMALL_NAMES)))
def test_small_names(k):
    assert _outcome(ember, SMALL_NAMES[k]) == _outcome(torch, SMALL_NAMES[k])


def _autocast_calls(lib):
    """Each deprecated device form called (and set back): its result and its warnings."""
    out = []
    calls = [lambda: lib.get_autocast_gpu_dtype(), lambda: lib.set_autocast_gpu_dtype(lib.bfloat16),
             lambda: lib.get_autocast_dtype('cuda'), lambda: lib.set_autocast_gpu_dtype(lib.float16)]
    for p in ('ipu', 'xla'):
        calls += [lambda p=p: getattr(lib, f'is_autocast_{p}_enabled')(),
                  lambda p=p: getattr(lib, f'set_autocast_{p}_enabled')(True), lambda p=p: lib.is_autocast_enabled(p),
                  lambda p=p: getattr(lib, f'set_autocast_{p}_enabled')(False),
                  lambda p=p: getattr(lib, f'get_autocast_{p}_dtype')(),
                  lambda p=p: (getattr(lib, f'set_autocast_{p}_dtype')(lib.float32), lib.get_autocast_dtype(p)),
                  lambda p=p: getattr(lib, f'set_autocast_{p}_dtype')(lib.bfloat16 if p == 'xla' else lib.float16),
                  lambda p=p: getattr(lib, f'set_autocast_{p}_dtype')(1),
                  lambda p=p: getattr(lib, f'set_autocast_{p}_enabled')(1)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            out.append(_outcome(lib, lambda lib: call()))
        out.append([f'{w.category.__name__}: {str(w.message).split(" (Triggered")[0]}' for w in caught])
    return out


def test_deprecated_autocast_forms():
    """torch.get/set_autocast_gpu_dtype and the ipu/xla enabled/dtype forms: PyTorch's values and warnings."""
    assert _autocast_calls(ember) == _autocast_calls(torch)


# -- lobpcg --------------------------------------------------------------------------------------------------------
def _spd(m, seed, scale=1.0):
    r = np.random.default_rng(seed)
    q = np.linalg.qr(r.standard_normal((m, m)))[0]
    return scale * q @ np.diag(np.linspace(1, 10, m) + r.random(m)) @ q.T


_X0 = np.random.default_rng(0).standard_normal((12, 3))
LOBPCG_CASES = [
    ('ortho', dict(k=2, X=_X0)), ('ortho smallest', dict(k=2, X=_X0, largest=False)),
    ('basic', dict(k=2, X=_X0, method='basic')), ('basic B', dict(k=2, X=_X0, method='basic', B=True)),
    ('ortho B', dict(k=2, X=_X0, B=True)), ('preconditioned', dict(k=1, X=_X0[:, :2], iK=True, largest=False)),
    ('drawn X', dict(k=2)), ('n and niter', dict(k=1, n=3, niter=5)), ('batched', dict(k=2, X=_X0, batch=True)),
    ('drop', dict(k=2, X=_X0, ortho_bparams={'ortho_use_drop': True})),
    ('tolerance', dict(k=2, X=_X0, tol=1e-4, ortho_iparams={'ortho_i_max': 2}, ortho_fparams={'ortho_tol': 1e-6})),
]


def _lobpcg_run(lib, kw):
    """lobpcg on the 12 x 12 problem with ``kw`` (B, iK, batch: made here), seeded; (E, X, steps seen by tracker)."""
    kw = dict(kw)
    A = lib.tensor(_spd(12, 1))
    if kw.pop('B', False):
        kw['B'] = lib.tensor(_spd(12, 2, 0.2) + np.eye(12))
    if kw.pop('iK', False):
        kw['iK'] = lib.linalg.inv(A)
    if 'X' in kw:
        kw['X'] = lib.tensor(kw['X'])
    if kw.pop('batch', False):
        A, kw['X'] = lib.stack([A, A * 2]), lib.stack([kw['X'], kw['X']])
    steps = []
    lib.manual_seed(0)
    E, X = lib.lobpcg(A, tracker=lambda w: steps.append((w.ivars['istep'], w.ivars['converged_count'])), **kw)
    return E.numpy(), X.numpy(), steps


@pytest.mark.parametrize('what,kw', LOBPCG_CASES, ids=[c[0] for c in LOBPCG_CASES])
def test_lobpcg(what, kw):
    """PyTorch's iterations (the tracker sees the same steps and converged counts) and its eigenpairs, float64;
    eigenvectors up to each one's sign (eigh's signs are LAPACK's choice: MKL's in PyTorch, NumPy's here)."""
    E, X, steps = _lobpcg_run(ember, kw)
    tE, tX, tsteps = _lobpcg_run(torch, kw)
    assert steps == tsteps
    np.testing.assert_allclose(E, tE, rtol=1e-9)
    signs = np.sign((X * tX).sum(-2, keepdims=True))
    np.testing.assert_allclose(X * signs, tX, atol=1e-7)


def test_lobpcg_float32_and_errors():
    A = _spd(12, 1)
    for lib in (ember, torch):
        lib.manual_seed(0)
    np.testing.assert_allclose(ember.lobpcg(ember.tensor(A).float(), 1)[0].numpy(),
                               torch.lobpcg(torch.tensor(A).float(), 1)[0].numpy(), rtol=1e-6)
    calls = [lambda lib: lib.lobpcg(lib.tensor(A), 5), lambda lib: lib.lobpcg(lib.tensor(A)[:, :5], 1),
             lambda lib: lib.lobpcg(lib.tensor(A), 1, X=lib.ones(3, 1, dtype=lib.float64)),
             lambda lib: lib.lobpcg(lib.tensor(A), 1, B=lib.eye(5))]
    for call in calls:
        assert _outcome(ember, call) == _outcome(torch, call)


@pytest.mark.parametrize('k,largest', [(1, True), (2, True), (2, False), (3, True)])
def test_lobpcg_gradient(k, largest):
    """LOBPCGAutogradFunctionBackward: the selected eigenpairs' gradient (the complement of their eigenvectors
    through the characteristic polynomial), for losses blind to the eigenvectors' signs; B != I refused as
    PyTorch's."""
    def call(lib, a):
        E, X = lib.lobpcg(a @ a.mT + lib.eye(9, dtype=a.dtype) * 9, k, X=lib.tensor(_X0[:9, :k]), largest=largest)
        return E, X @ X.mT
    _same(call, _arrays(15, (9, 9)), 'float64', atol=1e-6)
    _same_error(lambda lib, a: lib.lobpcg(a.requires_grad_(), 1, B=lib.eye(9, dtype=a.dtype),
                                          X=lib.tensor(_X0[:9, :1]))[0].sum().backward(), _arrays(0, (9, 9)), 'float64')


# -- linear_cross_entropy ------------------------------------------------------------------------------------------
LCE = [
    ('plain', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(x, w, lib.tensor([0, 2, 1, 2]))),
    ('bias sum', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(x, w, lib.tensor([0, 2, 1, 2]),
                                                                            linear_bias=b, reduction='sum')),
    ('none smoothing ignore', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(
        x, w, lib.tensor([0, 2, 1, 2]), reduction='none', label_smoothing=0.1, ignore_index=2)),
    ('unbatched', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(x[0], w, lib.tensor(1))),
    ('K-dimensional', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(
        x, w.repeat(1, 2).reshape(3, 2, 5), lib.tensor([[0, 1], [2, 2], [1, 0], [0, 0]]),
        linear_bias=b.repeat(2, 1).t())),
    ('probabilities', lambda lib, x, w, b: lib.nn.functional.linear_cross_entropy(x, w, (x[:, :3] * 2).softmax(1))),
]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('what,call', LCE, ids=[c[0] for c in LCE])
def test_linear_cross_entropy(what, call, dtype):
    _same(call, _arrays(16, (4, 5), (3, 5), (3,)), dtype)


def test_linear_cross_entropy_loss_module():
    """nn.LinearCrossEntropyLoss: its Linear (seeded init), repr, state_dict keys, loss and gradients; the options
    dataclass's repr."""
    out = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.LinearCrossEntropyLoss(5, 3, bias=True, label_smoothing=0.2)
        x = lib.tensor(_arrays(17, (4, 5))[0], dtype=lib.float32)
        loss = m(x, lib.tensor([0, 2, 1, 1]))
        loss.backward()
        out.append((repr(m), list(m.state_dict()), round(loss.item(), 5), np.round(m.linear.weight.grad.numpy(), 5),
                    repr(lib.nn.LinearCrossEntropyOptions(batch_chunk_size=4))))
    assert str(out[0]) == str(out[1])


LCE_OUTCOMES = [
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(4, 5), lib.ones(3, 4), lib.tensor([0, 1, 2, 0])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(4, 5), lib.ones(3, 5), lib.tensor([0, 1, 2, 0]),
                                                       linear_bias=lib.ones(2)),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(5), lib.ones(3, 2, 5), lib.tensor(0)),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(1, 4, 5), lib.ones(3, 5), lib.tensor([0])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(4, 5), lib.ones(5), lib.tensor([0])),
    lambda lib: lib.nn.functional.linear_cross_entropy(lib.ones(4, 5), lib.ones(3, 5), lib.ones(4, 3) / 3,
                                                       ignore_index=1),
    lambda lib: lib.nn.LinearCrossEntropyLoss(5, 3, weight=lib.ones(2)),
    lambda lib: lib.nn.LinearCrossEntropyLoss(5, 3, label_smoothing=2),
]


@pytest.mark.parametrize('k', range(len(LCE_OUTCOMES)))
def test_linear_cross_entropy_errors(k):
    assert _outcome(ember, LCE_OUTCOMES[k]) == _outcome(torch, LCE_OUTCOMES[k])


def test_linear_cross_entropy_options_refused():
    """PyTorch's chunked kernel (options given) is not in ember: refused by name, not run another way."""
    with pytest.raises(NotImplementedError, match='chunked'):
        ember.nn.functional.linear_cross_entropy(ember.ones(4, 5), ember.ones(3, 5), ember.tensor([0, 1, 2, 0]),
                                                 options=ember.nn.LinearCrossEntropyOptions())


MORE_NAMES = [
    lambda lib: lib.sym_constrain_range(3), lambda lib: lib.sym_constrain_range(3, max=2),
    lambda lib: lib.sym_constrain_range(3, min=4), lambda lib: lib.sym_constrain_range_for_size(3, min=4),
    lambda lib: lib.sym_constrain_range_for_size(3, max=2), lambda lib: lib.sym_constrain_range_for_size(-1),
    lambda lib: lib.sym_constrain_range(3.5), lambda lib: lib.sym_constrain_range(lib.tensor(3)),
    lambda lib: lib.sym_constrain_range('a'), lambda lib: lib.sym_constrain_range(size=3, min=1, max=3),
    lambda lib: lib.sym_fresh_size(3), lambda lib: lib.sym_fresh_size(2.5),
    lambda lib: lib.cudnn_is_acceptable(lib.ones(1)), lambda lib: lib.cudnn_is_acceptable(1),
    lambda lib: lib.ones(1).is_distributed(), lambda lib: lib.ones(2).reinforce(1),
    lambda lib: (lib.nn.functional.GRID_SAMPLE_INTERPOLATION_MODES, lib.nn.functional.GRID_SAMPLE_PADDING_MODES),
    lambda lib: (lib.nn.functional.has_torch_function_unary(lib.ones(1)),
                 lib.nn.functional.has_torch_function([lib.ones(1)]),
                 lib.nn.functional.has_torch_function_variadic(lib.ones(1), 1),
                 lib.nn.functional.handle_torch_function is lib.overrides.handle_torch_function),
    lambda lib: (lib.OutOfMemoryError, lib.AcceleratorError.__mro__[1:], lib.cuda.OutOfMemoryError is lib.OutOfMemoryError,
                 lib.cuda.AcceleratorError is lib.AcceleratorError, repr(lib.OutOfMemoryError('x'))),
    lambda lib: (lib.Tag, type(lib.Tag).__name__, lib.Tag(0), repr(lib.Tag.core), lib.Tag.core == 0,
                 lib.Tag(17) == lib.Tag.pt2_compliant_tag, lib.Tag(17) is lib.Tag.pt2_compliant_tag,
                 hash(lib.Tag.pt2_compliant_tag), int(lib.Tag.view_copy), list(lib.Tag.__members__.items()),
                 lib.Tag.needs_fixed_stride_order.name, lib.Tag.needs_fixed_stride_order.value, str(lib.Tag(99))),
]


@pytest.mark.parametrize('k', range(len(MORE_NAMES)))
def test_more_names(k):
    """torch.sym_constrain_range(_for_size)/sym_fresh_size on plain numbers, cudnn_is_acceptable,
    Tensor.is_distributed, F's grid-sample codes and torch.overrides helpers, the accelerator error classes,
    torch.Tag."""
    assert _outcome(ember, MORE_NAMES[k]) == _outcome(torch, MORE_NAMES[k])


# -- sparse-times-dense products that stay sparse ------------------------------------------------------------------
def _coo(lib, dtype=None):
    return lib.sparse_coo_tensor([[1, 0, 1], [2, 1, 0]], [3., 1., 2.], (3, 3), dtype=dtype)


def _described(r):
    """A sparse result's parts (indices, values, coalesced, shape, dtype, grad_fn, dims) or the value itself."""
    if not getattr(r, 'is_sparse', False):
        return r
    return (r._indices().tolist(), r._values().tolist(), r.is_coalesced(), tuple(r.shape), r.dtype,
            type(r.grad_fn).__name__, r.requires_grad, r.sparse_dim(), r.dense_dim())


_D = lambda lib: lib.arange(6.).reshape(3, 2)  # noqa: E731
_IN = lambda lib: lib.sparse_coo_tensor([[0, 2], [1, 1]], [5., 7.], (3, 2))  # noqa: E731
SPARSE_MM = [
    lambda lib: lib.smm(_coo(lib), _D(lib)), lambda lib: lib.hspmm(_coo(lib), _D(lib)),
    lambda lib: lib.sspaddmm(_IN(lib), _coo(lib), _D(lib), beta=2, alpha=3),
    lambda lib: lib.saddmm(_IN(lib), _coo(lib), _D(lib)), lambda lib: _IN(lib).sspaddmm(_coo(lib), _D(lib)),
    lambda lib: _coo(lib).smm(_D(lib)), lambda lib: lib.smm(lib.sparse_coo_tensor([[0], [0]], [1.], (3, 3)), _D(lib)),
    lambda lib: lib.smm(_coo(lib, lib.float64).requires_grad_(), _D(lib).double()),
    lambda lib: lib.hspmm(_coo(lib).requires_grad_(), _D(lib)),
    lambda lib: lib.smm(_coo(lib).requires_grad_(), _D(lib)).to_dense().sum().backward(),
    lambda lib: lib.hspmm(_coo(lib).requires_grad_(), _D(lib)).to_dense().sum().backward(),
    lambda lib: lib.sspaddmm(_IN(lib), _coo(lib), _D(lib).requires_grad_()),
    lambda lib: lib.smm(_coo(lib), lib.ones(4, 2)), lambda lib: lib.hspmm(_coo(lib), lib.ones(4, 2)),
    lambda lib: lib.sspaddmm(_IN(lib), _coo(lib), lib.ones(3, 3)), lambda lib: lib.smm(_coo(lib), _D(lib).int()),
    lambda lib: lib.smm(_coo(lib).to_dense(), _D(lib)),
    lambda lib: lib.sspaddmm(_IN(lib), _coo(lib).to_dense(), _D(lib)),
    lambda lib: lib.hspmm(_coo(lib).to_dense(), _D(lib)),
    lambda lib: lib.sspaddmm(_IN(lib), _coo(lib), _D(lib).to_sparse()),
]


@pytest.mark.parametrize('k', range(len(SPARSE_MM)))
def test_sparse_products(k):
    """smm, hspmm (hybrid result), sspaddmm/saddmm: PyTorch's entries in its order, uncoalesced, NotImplemented
    nodes, its errors."""
    assert _outcome(ember, lambda lib: _described(SPARSE_MM[k](lib))) == \
        _outcome(torch, lambda lib: _described(SPARSE_MM[k](lib)))
