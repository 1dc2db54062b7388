"""The registry's entries for the rest of PyTorch's public surface: the legacy tensor types, ``torch.Size``,
constants and dtype aliases, memory formats, ``device``, the autocast and precision state functions, save/load
across the two libraries, printing options, seeding, versions, ``return_types``, Tensor protocol methods, and
submodules (``torch.optim.adam``, ``torch.autograd.graph``...) whose names must resolve as PyTorch's do.

All are ``Call`` entries of tests/registry_training.py (``fn(lib)`` returns what is compared; the library is
``torch`` or ``ember``); tests/test_registry_training.py runs them. No torch import here."""
import importlib
import io
import warnings

import numpy as np

from registry_training import Call, Case

EXTREME = [0.1, 1e40, -1e-50, 1.0 / 3.0, -2.5]   # float64 values that float32 cannot hold
LEGACY = {'BoolTensor': ([1, 0, 2], 'bool'), 'ByteTensor': ([1, 200, 0], 'uint8'),
          'CharTensor': ([1, -100, 7], 'int8'), 'DoubleTensor': (EXTREME, 'float64'),
          'FloatTensor': ([0.1, -2.5, 3.0], 'float32'), 'HalfTensor': ([0.1, -2.5, 1e-3], 'float16'),
          'IntTensor': ([1, -2, 2 ** 31 - 1], 'int32'), 'LongTensor': ([1, -2, 2 ** 40], 'int64'),
          'ShortTensor': ([1, -2, 300], 'int16'), 'Tensor': ([0.1, -2.5, 3.0], 'float32')}


def _other(lib):
    """The other library (for save/load across them): ember for torch, torch for ember."""
    return importlib.import_module('torch' if lib.__name__ == 'ember' else 'ember')


def _legacy(name):
    """Cases for one legacy tensor type: sizes, data, floats into integer types, Size, no args, isinstance, and
    PyTorch's refusals (a string, sizes with dtype=, a negative size, a tensor of another dtype)."""
    data, dtype = LEGACY[name]
    T = lambda lib: getattr(lib, name)

    def isinst(lib):
        return [isinstance(lib.zeros(2, dtype=getattr(lib, d)), T(lib)) for d in ('float32', 'float64', 'int64')]
    cases = [Case('sizes', lambda lib: [list(T(lib)(2, 3).shape), str(T(lib)(2, 3).dtype), T(lib)(2, 3).type()]),
             Case('data', lambda lib: T(lib)(data)),
             Case('nested data', lambda lib: T(lib)([data, data[::-1]])),
             Case('floats', lambda lib: T(lib)([1.5, 2.7 if name == 'ByteTensor' else -2.7, 0.0])),
             Case('Size', lambda lib: list(T(lib)(lib.Size([2, 1])).shape)),
             Case('no args', lambda lib: T(lib)()),
             Case('ndarray', lambda lib: T(lib)(np.array(data[:2], dtype=np.float64 if 'float' in dtype else np.int64))),
             Case('isinstance', isinst),
             Case('string', lambda lib: T(lib)('ab'), error=True),
             Case('sizes with dtype', lambda lib: T(lib)(2, dtype=lib.float64), error=True),
             Case('negative size', lambda lib: T(lib)(-1), error=True)]
    if name not in ('FloatTensor', 'Tensor'):
        cases.append(Case('tensor of another dtype', lambda lib: T(lib)(lib.tensor([1.0, 2.0])), error=True))
    return Call('', name, cases, exact=True)


def _size_ops(lib):
    s = lib.Size([2, 3, 4])
    return [repr(s), str(lib.Size([])), s.numel(), lib.Size([]).numel(), lib.Size([0, 3]).numel(), list(s + lib.Size([5])),
            repr(s[1:]), s[-1], list(s * 2), s == (2, 3, 4), s.count(3), s.index(4), isinstance(s, tuple),
            type(s[1:]).__name__, repr(lib.zeros(2, 1).shape), lib.zeros(2, 1).size() == lib.Size([2, 1]),
            hash(lib.Size([1, 2])) == hash((1, 2))]


SIZE = Call('', 'Size', [
    Case('ops and repr', _size_ops),
    Case('from tensor sizes', lambda lib: [repr(lib.Size([lib.tensor(3), np.int64(2)])), list(lib.Size(range(3)))]),
    Case('float element', lambda lib: lib.Size([2.5]), error=True),
    Case('string', lambda lib: lib.Size('ab'), error=True),
    Case('int', lambda lib: lib.Size(3), error=True)], exact=True)


def _const(name):
    return Call('', name, [Case('value', lambda lib: [getattr(lib, name), lib.tensor(getattr(lib, name), dtype=lib.float64),
                                                  lib.full((2,), getattr(lib, name))])], exact=True)


def _alias(name, target):
    """A dtype alias: the same object as its target, PyTorch's repr, itemsize, and tensors made with it."""
    def fn(lib):
        d = getattr(lib, name)
        return [d is getattr(lib, target), repr(d), str(d), d.itemsize, d.is_floating_point, d.is_signed,
                lib.tensor([1.7, -2.2], dtype=d), lib.ones(2).to(d), lib.zeros(2, dtype=lib.float64).type(d)]
    return Call('', name, [Case('alias', fn)], exact=True)


def _method_cast(name):
    """``Tensor.double()`` and friends where the dtype name is also a Tensor method."""
    return lambda lib: getattr(lib.tensor(EXTREME[:1] + [2.5]), name)()


CONSTS = [_const('e'), _const('pi'), _const('inf'), _const('nan'),
          Call('', 'newaxis', [Case('None', lambda lib: [lib.newaxis, list(lib.zeros(2, 3)[lib.newaxis].shape)])])]
ALIASES = [_alias(n, t) for n, t in (('double', 'float64'), ('float', 'float32'), ('half', 'float16'), ('int', 'int32'),
                                     ('long', 'int64'), ('short', 'int16'))]



def _unheld(name):
    """A dtype ember names but holds no tensor of: the float8 ones (transformers maps checkpoint dtypes to them at
    import) and complex32 (kornia lists it): PyTorch's repr, attributes and finfo (tests/test_real_programs_s.py
    and tests/test_real_programs_w.py check the refusal)."""
    def fn(lib):
        d = getattr(lib, name)
        f = lib.finfo(d)
        return [repr(d), str(d), d.itemsize, d.is_floating_point, d.is_signed, d.is_complex, repr(f), f.bits, f.eps,
                f.max, f.min, f.tiny, f.resolution, repr(d.to_real()), d is getattr(lib, 'chalf', None)]
    return Call('', name, [Case('dtype', fn)], exact=True)


FLOAT8 = [_unheld(n) for n in ('float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu',
                               'complex32', 'chalf')]


def _formats(name):
    """A memory format: repr, and tensors made with it (``contiguous``, ``clone``, ``*_like``, ``to``) hold the
    same values."""
    def fn(lib):
        f = getattr(lib, name)
        x = lib.arange(48.).reshape((1, 2, 2, 3, 4) if name == 'channels_last_3d' else (2, 2, 3, 4))
        return [repr(f), str(f), x.contiguous(memory_format=f), x.clone(memory_format=f),
                lib.zeros_like(x, memory_format=f), x.to(memory_format=f),
                x.contiguous(memory_format=f).is_contiguous(memory_format=lib.contiguous_format) or 'last' in name,
                isinstance(f, lib.memory_format)]
    def strides(lib):
        x = lib.arange(48.).reshape((1, 2, 2, 3, 4) if name == 'channels_last_3d' else (2, 2, 3, 4))
        f = getattr(lib, name)
        return [x.contiguous(memory_format=f).stride(), x.to(memory_format=f).stride(),
                lib.empty_like(x.transpose(1, 2), memory_format=f).stride()]
    cases = [Case('repr and use', fn), Case('strides', strides)]
    if 'last' in name:   # a channels-last format on a tensor of another rank, through each function taking one
        cases += [Case(f'{f} of a 3-d tensor', lambda lib, f=f: _wrong_rank(lib, name, f), error=True)
                  for f in ('contiguous', 'clone', 'to', 'zeros_like', 'full_like')]
    return Call('', name, cases, exact=True)


def _wrong_rank(lib, name, fn):
    x, f = lib.zeros(2, 3, 4), getattr(lib, name)
    return {'contiguous': lambda: x.contiguous(memory_format=f), 'clone': lambda: x.clone(memory_format=f),
            'to': lambda: x.to(memory_format=f), 'zeros_like': lambda: lib.zeros_like(x, memory_format=f),
            'full_like': lambda: lib.full_like(x, 2.0, memory_format=f)}[fn]()


def _kinds(lib):
    return [repr(lib.strided), isinstance(lib.strided, lib.layout), isinstance(lib.channels_last, lib.memory_format),
            isinstance(lib.strided, lib.memory_format), lib.layout.__name__, lib.memory_format.__name__,
            lib.zeros(2).layout is lib.strided]


FORMATS = [_formats('channels_last'), _formats('channels_last_3d'), _formats('contiguous_format'),
           _formats('legacy_contiguous_format'),
           _formats('preserve_format'),
           Call('', 'layout', [Case('the type of strided', _kinds)]),
           Call('', 'memory_format', [Case('the type of channels_last', _kinds),
                                      Case('a string', lambda lib: lib.ones(2).contiguous(memory_format='channels_last'),
                                           error=True)]),
           Call('', 'strided', [Case('layout', lambda lib: [repr(lib.strided), str(lib.strided), lib.zeros(2).layout == lib.strided,
                                                            repr(lib.zeros(2).layout), lib.zeros(2, layout=lib.strided)])],
                exact=True)]


def _layout_repr(name):
    return lambda lib: [repr(getattr(lib, name)), str(getattr(lib, name)), isinstance(getattr(lib, name), lib.layout),
                        getattr(lib, name) == lib.strided]


def _zeros_in(name):
    return lambda lib: lib.zeros(2, 2, layout=getattr(lib, name))


def _sparse_zeros(lib):
    """zeros and empty in the COO layout: no entries, all dims sparse (printed, and their parts)."""
    out = []
    for z in (lib.zeros(2, 3, layout=lib.sparse_coo), lib.empty((4,), layout=lib.sparse_coo, dtype=lib.float64)):
        out += [repr(z), z.is_sparse, z.is_coalesced(), z.sparse_dim(), z._nnz(), z.to_dense()]
    return out


NO_SPARSE_LAYOUT = 'ember has no compressed sparse tensors: layout=torch.sparse_csr/csc is refused with an error naming it'
LAYOUTS = ([Call('', 'sparse_coo', [Case('repr', _layout_repr('sparse_coo')), Case('zeros', _sparse_zeros)])] +
           [Call('', n, [Case('repr', _layout_repr(n)), Case('zeros', _zeros_in(n), unsupported=n)],
                 gaps={'case:zeros': NO_SPARSE_LAYOUT}) for n in ('sparse_csr', 'sparse_csc')] +
           [Call('', n, [Case('repr', _layout_repr(n)), Case('zeros', _zeros_in(n), error=True)])
            for n in ('sparse_bsr', 'sparse_bsc')] +
           [Call('', 'jagged', [Case('repr', _layout_repr('jagged'))])])


def _sparse_case(fn):
    """fn(lib, S, D): with the invariant checks chosen off (no once-a-process warning to compare), S a sparse
    (3, 3) float32 matrix with a duplicate entry, D a dense (3, 2) one."""
    def case(lib):
        with lib.sparse.check_sparse_tensor_invariants(False):
            s = lib.sparse_coo_tensor([[0, 1, 1, 0, 2], [1, 0, 2, 1, 2]], [1., 2., 3., 4., -1.], (3, 3))
            return fn(lib, s, lib.tensor([[0.5, -1.], [2., 1.], [-0.5, 3.]]))
    return case


def _sparse_facts(t):
    """A sparse result as compared: printed, its flags and parts (a strided one as itself)."""
    if not t.is_sparse:
        return t
    return [repr(t), t.is_coalesced(), t._indices(), t._values(), t.to_dense()]


def _huge_facts(t):
    """A 10^6 x 10^6 sparse matrix as compared: printed, its parts, coalesced, its sum and product with a dense
    vector's rows (nothing of its size made)."""
    c = t.coalesce()
    return [repr(t), repr(c), t.shape, t._nnz(), c._indices(), c._values(), float(t.sum()),
            repr((t * 2)._values()), (t + t).coalesce()._values()]


SPARSE = [
    Call('', 'sparse_coo_tensor', [
        Case('uncoalesced', _sparse_case(lambda lib, s, d: _sparse_facts(s))),
        Case('coalesce', _sparse_case(lambda lib, s, d: _sparse_facts(s.coalesce()))),
        Case('size inferred, int', _sparse_case(lambda lib, s, d: _sparse_facts(
            lib.sparse_coo_tensor([[0, 4]], [1, 2], check_invariants=False)))),
        Case('hybrid (dense dim)', _sparse_case(lambda lib, s, d: _sparse_facts(
            lib.sparse_coo_tensor([[2, 0]], [[1., 2.], [3., 4.]], (3, 2))))),
        Case('huge, 3 entries', _sparse_case(lambda lib, s, d: _huge_facts(
            lib.sparse_coo_tensor([[0, 999999, 5], [7, 0, 999999]], [1., 2., 3.], (10 ** 6, 10 ** 6))))),
        Case('index out of size', _sparse_case(lambda lib, s, d: lib.sparse_coo_tensor(
            [[0, 5]], [1., 2.], (3,), check_invariants=True)), error=True),
        Case('nnz mismatch', _sparse_case(lambda lib, s, d: lib.sparse_coo_tensor([[0, 1]], [1., 2., 3.], (3,))),
             error=True)]),
    Call('', 'spmm', [Case('sparse @ dense', _sparse_case(lambda lib, s, d: lib.spmm(s, d)))]),
    Call('', 'dsmm', [Case('sparse @ dense', _sparse_case(lambda lib, s, d: lib.dsmm(s, d))),
                      Case('dense @ dense', _sparse_case(lambda lib, s, d: lib.dsmm(d.t(), d)))]),
    Call('sparse', 'mm', [Case('sparse @ dense', _sparse_case(lambda lib, s, d: lib.sparse.mm(s, d))),
                          Case('dense @ sparse', _sparse_case(lambda lib, s, d: lib.sparse.mm(d.t(), s))),
                          Case('size mismatch', _sparse_case(lambda lib, s, d: lib.sparse.mm(s, d.t())), error=True)]),
    Call('sparse', 'sum', [Case('all', _sparse_case(lambda lib, s, d: lib.sparse.sum(s))),
                           Case('dim 1', _sparse_case(lambda lib, s, d: _sparse_facts(lib.sparse.sum(s, 1)))),
                           Case('dims (0, 1)', _sparse_case(lambda lib, s, d: lib.sparse.sum(s, (0, 1))))]),
    Call('Tensor', 'to_dense', [Case('of sparse', _sparse_case(lambda lib, s, d: s.to_dense())),
                                Case('of strided', _sparse_case(lambda lib, s, d: d.to_dense()))]),
    Call('Tensor', 'to_sparse', [Case('2-d', _sparse_case(lambda lib, s, d: _sparse_facts(d.to_sparse()))),
                                 Case('sparse_dim 1', _sparse_case(lambda lib, s, d: _sparse_facts(
                                     lib.tensor([[0., 1.], [0., 0.], [2., 0.]]).to_sparse(1)))),
                                 Case('of sparse', _sparse_case(lambda lib, s, d: s.to_sparse() is s))]),
    Call('Tensor', 'coalesce', [Case('duplicates summed', _sparse_case(lambda lib, s, d: _sparse_facts(
        (s + s * 2).coalesce())))]),
]


def _device_repr(lib):
    d = lib.device
    return [repr(d('cpu')), repr(d('cpu', 0)), repr(d('cuda:1')), str(d('cuda:1')), str(d('cpu')), d('cuda', 1).index,
            d('cuda:1').type, d('cpu').index, repr(d('meta')), d('cpu') == d('cpu'), d('cpu') == d('cpu', 0),
            d('cpu') == 'cpu', hash(d('cpu')) == hash(d('cpu')), repr(d(d('cuda', 2))), repr(lib.zeros(1).device),
            lib.zeros(1).device == d('cpu'), repr(lib.zeros(1, device=d('cpu')).device)]


DEVICE = Call('', 'device', [
    Case('repr and equality', _device_repr),
    Case('unknown type', lambda lib: lib.device('foo'), error=True),
    Case('bad index', lambda lib: lib.device('cpu:x'), error=True),
    Case('float', lambda lib: lib.device(3.5), error=True),
    Case('negative index', lambda lib: lib.device('cuda', -1), error=True)], exact=True)


def _restore_device(fn):
    def wrapped(lib):
        try:
            return fn(lib)
        finally:
            lib.set_default_device(None)
    return wrapped


DEFAULT_DEVICE = [
    Call('', 'get_default_device', [Case('default', lambda lib: repr(lib.get_default_device()))]),
    Call('', 'set_default_device', [
        Case('cpu round trip', _restore_device(lambda lib: [lib.set_default_device('cpu'), repr(lib.get_default_device()),
                                                            repr(lib.zeros(1).device), lib.set_default_device(None),
                                                            repr(lib.get_default_device())])),
        Case('unknown type', _restore_device(lambda lib: lib.set_default_device('foo')), error=True)]),
]


def _precision(fn):
    def wrapped(lib):
        try:
            return fn(lib)
        finally:
            lib.set_float32_matmul_precision('highest')
    return wrapped


PRECISION = [
    Call('', 'get_float32_matmul_precision', [Case('default', lambda lib: lib.get_float32_matmul_precision())]),
    Call('', 'set_float32_matmul_precision', [
        Case('round trip', _precision(lambda lib: [[lib.set_float32_matmul_precision(p), lib.get_float32_matmul_precision()]
                                                   for p in ('high', 'medium', 'highest')])),
        Case('unknown value', _precision(lambda lib: [lib.set_float32_matmul_precision('bogus'),
                                                      lib.get_float32_matmul_precision()]))]),
]


def _autocast_state(lib):
    """Every autocast state value, as PyTorch names them."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return [lib.is_autocast_enabled(), lib.is_autocast_enabled('cpu'), lib.is_autocast_cpu_enabled(),
                str(lib.get_autocast_cpu_dtype()), str(lib.get_autocast_dtype('cpu')), lib.is_autocast_cache_enabled()]


def _restoring(fn):
    """Run ``fn(lib)``, then put every autocast setting back to its default."""
    def wrapped(lib):
        try:
            return fn(lib)
        finally:
            lib.set_autocast_enabled('cpu', False)
            lib.set_autocast_dtype('cpu', lib.bfloat16)
            lib.set_autocast_cache_enabled(True)
    return wrapped


def _ac(name, cases):
    return Call('', name, [Case(d, _restoring(f), error=e) for d, f, e in cases])


def _in_region(lib, fn):
    with lib.autocast('cpu'):
        return fn()


def _inside_autocast(lib, *a, **k):
    with lib.autocast(*a, **k):
        x, w = lib.ones(2, 3), lib.ones(4, 3)
        return _autocast_state(lib) + [str((x @ w.t()).dtype), str(lib.nn.functional.linear(x, w).dtype)]


AUTOCAST = [
    _ac('autocast', [('cpu bfloat16', lambda lib: [_inside_autocast(lib, 'cpu'), _autocast_state(lib)], False),
                     ('cpu float16', lambda lib: _inside_autocast(lib, device_type='cpu', dtype=lib.float16), False),
                     ('disabled', lambda lib: _inside_autocast(lib, 'cpu', enabled=False), False),
                     ('float32 refused', lambda lib: _inside_autocast(lib, 'cpu', dtype=lib.float32), False),
                     ('unknown device', lambda lib: lib.autocast('foo'), True)]),
    _ac('autocast_increment_nesting', [('counts', lambda lib: [lib.autocast_increment_nesting(),
                                                               lib.autocast_increment_nesting(),
                                                               lib.autocast_decrement_nesting(),
                                                               lib.autocast_decrement_nesting()], False)]),
    _ac('autocast_decrement_nesting', [('inside autocast', lambda lib: _in_region(lib, lambda: [
        lib.autocast_increment_nesting(), lib.autocast_decrement_nesting(), lib.autocast_decrement_nesting(),
        lib.autocast_increment_nesting()]), False)]),
    _ac('clear_autocast_cache', [('returns', lambda lib: [lib.clear_autocast_cache(), _autocast_state(lib)], False)]),
    _ac('get_autocast_cpu_dtype', [('default', lambda lib: str(lib.get_autocast_cpu_dtype()), False)]),
    _ac('get_autocast_dtype', [('cpu', lambda lib: str(lib.get_autocast_dtype('cpu')), False),
                               ('unknown device', lambda lib: lib.get_autocast_dtype('foo'), True)]),
    _ac('is_autocast_cache_enabled', [('default', lambda lib: lib.is_autocast_cache_enabled(), False)]),
    _ac('is_autocast_cpu_enabled', [('default and inside', lambda lib: [
        lib.is_autocast_cpu_enabled(), _in_region(lib, lib.is_autocast_cpu_enabled)], False)]),
    _ac('is_autocast_enabled', [('no device and cpu', lambda lib: [lib.is_autocast_enabled(), lib.is_autocast_enabled('cpu'),
                                                                   lib.set_autocast_enabled('cpu', True),
                                                                   lib.is_autocast_enabled('cpu'),
                                                                   lib.is_autocast_enabled()], False)]),
    _ac('set_autocast_cache_enabled', [('round trip', lambda lib: [lib.set_autocast_cache_enabled(False),
                                                                   lib.is_autocast_cache_enabled()], False),
                                       ('not a bool', lambda lib: lib.set_autocast_cache_enabled('no'), True)]),
    _ac('set_autocast_cpu_dtype', [('float16', lambda lib: [lib.set_autocast_cpu_dtype(lib.float16), _autocast_state(lib)],
                                    False),
                                   ('not a dtype', lambda lib: lib.set_autocast_cpu_dtype('float16'), True)]),
    _ac('set_autocast_cpu_enabled', [('round trip', lambda lib: [lib.set_autocast_cpu_enabled(True), _autocast_state(lib)],
                                      False),
                                     ('not a bool', lambda lib: lib.set_autocast_cpu_enabled('yes'), True)]),
    _ac('set_autocast_dtype', [('cpu float16', lambda lib: [lib.set_autocast_dtype('cpu', lib.float16),
                                                            _autocast_state(lib)], False),
                               ('unknown device', lambda lib: lib.set_autocast_dtype('foo', lib.float16), True)]),
    _ac('set_autocast_enabled', [('cpu round trip', lambda lib: [lib.set_autocast_enabled('cpu', True), _autocast_state(lib),
                                                                 lib.set_autocast_enabled('cpu', False),
                                                                 _autocast_state(lib)], False),
                                 ('unknown device', lambda lib: lib.set_autocast_enabled('foo', True), True)]),
]


# -- save / load across the libraries --------------------------------------------------------------------
def _payload(lib):
    """A tensor of float64 values float32 cannot hold, an int tensor, a non-contiguous view, and a model's state
    dict, in a nest with plain values."""
    lib.manual_seed(0)
    base = lib.arange(12.).reshape(3, 4)
    return {'f64': lib.tensor(EXTREME, dtype=lib.float64), 'i64': lib.tensor([2 ** 40, -3]), 'view': base.t(),
            'state': lib.nn.Linear(3, 2).state_dict(), 'meta': [1, 'two', 3.5, None, (4, 5)],
            'bool': lib.tensor([True, False]), 'half': lib.tensor([0.1, 65504.0], dtype=lib.float16)}


def _save(lib, obj, **kw):
    buf = io.BytesIO()
    lib.save(obj, buf, **kw)
    buf.seek(0)
    return buf


def _across(lib, **kw):
    """The other library saves, ``lib`` loads: what ``lib`` reads back."""
    other = _other(lib)
    return lib.load(_save(other, _payload(other)), **kw)


def _shared_views(lib):
    """Two views of one tensor saved together still share memory after loading (as PyTorch's storages do)."""
    other = _other(lib)
    x = other.arange(6.)
    got = lib.load(_save(other, [x, x[2:4]]))
    got[1][0] = 100.0
    return got


def _round_trip(lib):
    return lib.load(_save(lib, _payload(lib)))


def _module_file(lib, tmp=None):
    """A whole ``state_dict`` written to a file path by the other library, loaded into ``lib``'s model."""
    import os
    import tempfile
    other = _other(lib)
    other.manual_seed(1)
    src = other.nn.Sequential(other.nn.Linear(3, 4), other.nn.ReLU(), other.nn.Linear(4, 1))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'model.pt')
        other.save(src.state_dict(), path)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 1))
        keys = model.load_state_dict(lib.load(path, weights_only=True))
    return [model(lib.tensor([[0.5, -1.0, 2.0]])).detach(), list(keys.missing_keys), list(keys.unexpected_keys)]


class _Custom:
    """A class ``weights_only=True`` loading refuses."""


SAVE_LOAD = [
    Call('', 'save', [Case('loaded by the other library', _across), Case('round trip', _round_trip),
                      Case('shared views', _shared_views), Case('model file', _module_file),
                      Case('not a file', lambda lib: lib.save(lib.ones(2), 3.5), error=True)], exact=True),
    Call('', 'load', [Case('written by the other library', _across),
                      Case('weights_only', lambda lib: _across(lib, weights_only=True)),
                      Case('map_location cpu', lambda lib: _across(lib, map_location='cpu')),
                      Case('model file', _module_file),
                      Case('missing file', lambda lib: lib.load('/nonexistent/ember-registry.pt'), error=True),
                      Case('weights_only refuses a class', lambda lib: lib.load(_save(lib, _Custom()), weights_only=True),
                           error=True)], exact=True),
]


# -- printing --------------------------------------------------------------------------------------------
def _printed(lib):
    x = lib.tensor([[1e-5, 123.456789, -7.0], [0.1, 2.0, 3e6]], dtype=lib.float64)
    return [repr(x), repr(lib.tensor([0.1, 0.25, -3.5])), repr(lib.arange(30.)), repr(lib.tensor([1, 22, 333])),
            repr(lib.tensor([1e-8, 1.0])), str(lib.linspace(0, 1, 7).reshape(1, 7))]


def _printopts(**opts):
    def fn(lib):
        try:
            lib.set_printoptions(**opts)
            return _printed(lib)
        finally:
            lib.set_printoptions(profile='default')
            lib.set_printoptions(sci_mode=None)
    return fn


PRINTOPTS = Call('', 'set_printoptions', [
    Case('defaults', _printopts()), Case('precision 2', _printopts(precision=2)),
    Case('precision 8', _printopts(precision=8)), Case('sci_mode True', _printopts(sci_mode=True)),
    Case('sci_mode False', _printopts(sci_mode=False)), Case('threshold 5', _printopts(threshold=5)),
    Case('threshold 5 edgeitems 1', _printopts(threshold=5, edgeitems=1)), Case('linewidth 30', _printopts(linewidth=30)),
    Case('profile short', _printopts(profile='short')), Case('profile full', _printopts(profile='full')),
    Case('reset', lambda lib: [_printopts(precision=1)(lib), _printed(lib)][1])])


# -- seeding ---------------------------------------------------------------------------------------------
def _seed(lib):
    s = lib.seed()
    return [type(s).__name__, lib.initial_seed() == s, 0 <= s < 2 ** 64]


def _gen_round_trip(lib):
    g = lib.default_generator
    g.manual_seed(3)
    a = lib.rand(3)
    state = g.get_state()
    b = lib.randn(2)
    g.set_state(state)
    return [a, b, lib.randn(2), g.initial_seed(), state, lib.default_generator is g, lib.randint(0, 10, (4,), generator=g)]


def _state_across(lib):
    """The other library's generator state (seeded, then drawn from) set into ``lib``'s: the same next values."""
    other = _other(lib)
    other.manual_seed(7)
    other.rand(5)
    lib.default_generator.set_state(lib.tensor(other.default_generator.get_state().numpy()))
    return [lib.rand(3), lib.randn(2), lib.default_generator.get_state()]


def _random_module(lib):
    r = lib.random
    r.manual_seed(5)
    a = lib.rand(2)
    state = r.get_rng_state()
    with r.fork_rng():
        lib.rand(5)
    b = lib.rand(2)
    r.set_rng_state(state)
    return [a, b, lib.rand(2), r.initial_seed(), r.manual_seed is not None]


SEEDING = [
    Call('', 'seed', [Case('returns the new seed', _seed)]),
    Call('', 'default_generator', [Case('seed, state round trip', _gen_round_trip),
                                   Case('state from the other library', _state_across),
                                   Case('set_state of a float tensor', lambda lib: lib.default_generator.set_state(
                                       lib.zeros(5056)), error=True)], exact=True),
    Call('', 'random', [Case('seed, fork_rng, state', _random_module),
                        Case('names', lambda lib: _public(lib, 'random', SUBMODULES['random']))], exact=True),
    Call('', 'thread_safe_generator', [Case('main process', lambda lib: [lib.thread_safe_generator(),
                                                                         lib.random.thread_safe_generator()])]),
]


# -- versions, return_types ------------------------------------------------------------------------------
def _versions(lib):
    v = lib.__version__
    return [v >= '2.0', v < (3,), v >= (2, 13), v > '2.13', v < '2.14', type(lib.version.__version__).__name__,
            lib.version.__version__.split('+')[0], lib.version.cuda, lib.version.hip, str(v).split('+')[0]]


def _torch_version(lib):
    TV = lib.torch_version.TorchVersion
    return [TV('2.1.0') < '2.10', TV('2.1.0') < (2, 1, 1), TV('2.10.0') > '2.9', TV('1.13.1') == '1.13.1',
            TV('2.0.0a0') < '2.0.0', isinstance(lib.__version__, TV), isinstance(TV('2.1'), str)]


VERSION = [
    Call('', 'version', [Case('comparisons', _versions)]),
    Call('', 'torch_version', [Case('TorchVersion comparisons', _torch_version),
                               Case('compared with a float', lambda lib: lib.torch_version.TorchVersion('2.1') < 3.5,
                                    error=True)]),
]


def _return_types(lib):
    x = lib.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 4.0]])
    out = []
    for r in (lib.max(x, 1), lib.sort(x, descending=True), lib.topk(x, 2), lib.min(x, dim=0), lib.kthvalue(x, 2)):
        values, indices = r
        out += [repr(r), type(r).__name__, isinstance(r, tuple), r.values, r.indices, r[0], len(r), values, indices]
    out.append(isinstance(lib.sort(x), lib.return_types.sort))
    out.append(isinstance(lib.max(x, 0), lib.return_types.max))
    return out


RETURN_TYPES = Call('', 'return_types', [Case('max, sort, topk, min, kthvalue', _return_types)], exact=True)


# -- Tensor protocols ------------------------------------------------------------------------------------
def _t(lib):
    return lib.tensor([[1.5, -2.0, 0.0], [4.0, 5.25, -6.0]])


TENSOR = [
    Call('Tensor', '__array__', [Case('dtypes', lambda lib: [str(np.asarray(_t(lib)).dtype), np.asarray(_t(lib)).tolist(),
                                                             _t(lib).__array__('float64').dtype.name,
                                                             np.asarray(lib.tensor([1, 2])).dtype.name,
                                                             np.asarray(lib.tensor(3.0)).shape]),
                                 Case('requires grad', lambda lib: np.asarray(lib.ones(2, requires_grad=True)),
                                      error=True)]),
    Call('Tensor', '__dlpack__', [Case('to numpy', lambda lib: np.from_dlpack(_t(lib)).tolist()),
                                  Case('to the other library', lambda lib: lib.from_dlpack(_t(_other(lib)))),
                                  Case('requires grad', lambda lib: lib.ones(2, requires_grad=True).__dlpack__(),
                                       error=True)]),
    Call('Tensor', '__dlpack_device__', [Case('cpu', lambda lib: [int(v) for v in _t(lib).__dlpack_device__()])]),
    Call('Tensor', '__hash__', [Case('identity', lambda lib: (lambda x, y: [hash(x) == id(x), hash(x) == hash(y),
                                                                            len({x: 1, y: 2}), len({x, x})])(
        lib.ones(2), lib.ones(2)))]),
    Call('Tensor', '__iter__', [Case('rows', lambda lib: list(iter(_t(lib)))),
                                Case('1-d', lambda lib: [v for v in lib.arange(3)]),
                                Case('unpack', lambda lib: (lambda a, b: [a, b])(*_t(lib))),
                                Case('0-d', lambda lib: list(iter(lib.tensor(3.0))), error=True)]),
    Call('Tensor', '__repr__', [Case('several', lambda lib: [
        repr(_t(lib)), repr(lib.ones(2, requires_grad=True) * 2), repr(lib.zeros(0, 3)),
        repr(lib.tensor(EXTREME, dtype=lib.float64)), repr(lib.tensor(True)), repr(lib.tensor([1, 2], dtype=lib.uint8)),
        repr(lib.arange(2000.)), repr(lib.ones(2, requires_grad=True)), repr(lib.tensor([1.0, float('nan'), float('inf')])),
        repr(lib.tensor([0.1, 0.2], dtype=lib.bfloat16)), repr(lib.nn.Parameter(lib.ones(2)))])]),
    Call('Tensor', 'bfloat16', [Case('values', lambda lib: (lambda b: [str(b.dtype), b.float()])(lib.tensor(EXTREME).bfloat16())),
                                Case('grad', lambda lib: (lambda x: [x.bfloat16().grad_fn is not None,
                                                                     type(x.bfloat16().grad_fn).__name__])(
                                    lib.ones(2, requires_grad=True)))], exact=True),
    Call('Tensor', 'cuda', [Case('no CUDA', lambda lib: lib.ones(2).cuda(), error=True)]),
    Call('Tensor', 'pin_memory', [Case('no accelerator', lambda lib: lib.ones(2).pin_memory(), error=True),
                                  Case('is_pinned', lambda lib: lib.ones(2).is_pinned())]),
    Call('Tensor', 'share_memory_', [Case('returns self, shared', lambda lib: (lambda x: [x.share_memory_() is x,
                                                                                          x.is_shared(), x])(
        lib.arange(3.)))]),
]


# -- functions -------------------------------------------------------------------------------------------
def _fill(lib):
    x = lib.zeros(3, dtype=lib.int64)
    return [lib.fill_(lib.zeros(2, 2), 2.5), lib.fill_(x, 2.7), x, lib.fill_(lib.zeros(2), lib.tensor(1.5)),
            lib.fill_(lib.zeros(2, dtype=lib.bool), 1)]


def _det(lib):
    try:
        lib.use_deterministic_algorithms(True, warn_only=True)
        on = [lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled()]
        lib.use_deterministic_algorithms(False)
        return on + [lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled()]
    finally:
        lib.use_deterministic_algorithms(False)


def _debug_modes(lib):
    """set_deterministic_debug_mode by name and number, and get_deterministic_debug_mode after each (and after
    use_deterministic_algorithms)."""
    try:
        out = [lib.get_deterministic_debug_mode()]
        for mode in ('warn', 2, 'default', 1, True, 'error', 0):
            lib.set_deterministic_debug_mode(mode)
            out.append([lib.get_deterministic_debug_mode(), lib.are_deterministic_algorithms_enabled(),
                        lib.is_deterministic_algorithms_warn_only_enabled()])
        lib.use_deterministic_algorithms(True, warn_only=True)
        return out + [lib.get_deterministic_debug_mode()]
    finally:
        lib.use_deterministic_algorithms(False)


def _compiled(lib):
    import warnings
    with warnings.catch_warnings():   # PyTorch's first compile warns from its own internals (torch.jit)
        warnings.simplefilter('ignore')
        return _compiled_values(lib)


def _compiled_values(lib):
    f = lambda x: (x * 2 + 1).sin()
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)
    cm = lib.compile(m)
    x = lib.tensor([[0.5, -1.0, 2.0]])
    return [lib.compile(f)(x), lib.compile(fullgraph=True)(f)(x), cm(x).detach(), lib.compile(f, dynamic=True)(x),
            lib.compile(f, backend='eager')(x), lib.compile(f, mode='reduce-overhead')(x)]


def _grad_scaler(lib):
    """``torch.GradScaler`` is ``torch.amp.GradScaler``: scaling a CPU loss, unscaling, stepping, the new scale."""
    w = lib.tensor([1.0, -2.0], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.GradScaler('cpu', init_scale=8.0, growth_interval=1)
    scaled = scaler.scale((w ** 2).sum())
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    return [lib.GradScaler is lib.amp.GradScaler, scaled.detach(), w.detach(), scaler.get_scale(), w.grad]


def _compiled_module(lib):
    """A compiled module: its type, repr, state_dict keys (``_orig_mod.``), attributes, train/eval, and a state
    dict loaded from the plain module (refused, as PyTorch refuses it) and from a compiled one."""
    import warnings
    lib.manual_seed(0)
    m = lib.nn.Linear(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        c = lib.compile(m)
    c.eval()
    try:
        c.load_state_dict(m.state_dict())
        plain = 'loaded'
    except RuntimeError as err:
        plain = str(err)
    c.load_state_dict(c.state_dict())
    return [type(c).__name__, repr(c), list(c.state_dict()), c.weight is m.weight, c.in_features, c._orig_mod is m,
            m.training, [n for n, _ in c.named_modules()], plain, lib.compile(m, disable=True) is m,
            type(lib.compile()(m)).__name__, c(lib.ones(1, 2)).detach()]


def _sym(name, *a):
    """torch.sym_<name>(*a): its value and type (Python and NumPy numbers)."""
    def call(lib):
        r = getattr(lib, f'sym_{name}')(*a)
        return [r, type(r).__name__]
    return call


def _sym_classes(lib):
    """Eager values are never symbolic: isinstance checks as libraries write them, and the classes' names."""
    vals = [3, 2.5, True, np.int64(2), lib.tensor(1).item(), lib.zeros(2, 3).shape[0], lib.zeros(2).size(0)]
    return [[isinstance(v, (lib.SymInt, lib.SymFloat, lib.SymBool)) for v in vals],
            [c.__name__ for c in (lib.SymInt, lib.SymFloat, lib.SymBool)], isinstance(lib.SymInt, type)]


def _is_inference(lib):
    with lib.inference_mode():
        a = lib.ones(2)
    with lib.no_grad():
        b = lib.ones(2)
    return [lib.is_inference(a), lib.is_inference(b), lib.is_inference(lib.ones(2, requires_grad=True))]


def _lowrank(name, shape, seed=0, dtype='float64', **k):
    """svd_lowrank/pca_lowrank after manual_seed(0) (the same random projection in both libraries): S, and
    U diag(S) V^H and the projectors U U^H, V V^H, which do not depend on the singular vectors' signs (LAPACK
    builds may flip a pair's sign)."""
    def call(lib):
        a = lib.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=getattr(lib, dtype))
        kw = dict(k)
        sparse = kw.pop('sparse', False)
        if sparse:
            a = (a * (a.abs() > 0.8)).to_sparse()
        lib.manual_seed(0)
        with warnings.catch_warnings():   # each library warns once a process on its first sparse_coo_tensor
            if sparse:
                warnings.simplefilter('ignore')
            U, S, V = getattr(lib, name)(a, **kw)
        return [S, U @ lib.diag_embed(S) @ V.mH, U @ U.mH, V @ V.mH, list(U.shape), list(V.shape), str(S.dtype)]
    return call


def _cond(lib):
    x = lib.tensor([1.0, -2.0, 3.0])
    return [lib.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (x,)),
            lib.cond(lib.tensor(False), lambda t, u: (t + u, t * 2), lambda t, u: (t - u, u * 2), [x, x * 3]),
            lib.cond(0, lambda t: t.sin(), lambda t: t.cos(), (x,)), lib.cond(True, lambda: 1, lambda: 2)]


def _while(lib):
    x = lib.tensor([1.0, 2.0])
    return [lib.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t * 2), (lib.tensor(0), x)),
            lib.while_loop(lambda i, t: t.sum() < 100, lambda i, t: (i + 1, t * 3), [lib.tensor(0), x]),
            lib.while_loop(lambda i, n: i < n, lambda i, n: (i + 2, n), (lib.tensor(1), 6)),
            lib.while_loop(lambda i: i < 3, lambda i: i + 1, (lib.tensor(0),))]


def _storages(name):
    def call(lib):
        S = getattr(lib, name)
        dt = S.dtype
        made = [S(), S(3), S([1, 0, 1])]
        return [[len(m) for m in made], [str(m.dtype) for m in made], made[2].tolist(), type(made[1]).__name__,
                repr(S), str(dt), isinstance(lib.ones(2, dtype=dt).storage(), S),
                isinstance(lib.ones(2, dtype=lib.float64 if dt != lib.float64 else lib.float32).storage(), S),
                isinstance(made[0], lib.TypedStorage), lib.ones(1, dtype=dt).storage_type() is S]
    return call


def _resize_as(lib):
    got = []
    for shape in ((3, 1), (2, 2), (4, 2)):
        t = lib.arange(6.0)
        r = t.resize_as_(lib.ones(shape, dtype=lib.int64))
        got.append([r is t, list(t.shape), t.stride(), str(t.dtype), t[:2].flatten()[:2] if t.numel() else t])
    return got


def _set(lib):
    x = lib.arange(6.0)
    z = lib.zeros(3)
    z.set_(x)
    same = [z.data_ptr() == x.data_ptr(), list(z.shape)]
    z[0] = 9.0
    w = lib.zeros(3).set_(x.untyped_storage(), 1, (2, 2), (1, 2))
    v = lib.zeros(3).set_(x[2:].view(2, 2).t())
    e = lib.zeros(3).set_()
    s = lib.zeros(2).set_(x.storage(), 2, (3,))
    return same + [x, w, w.stride(), w.storage_offset(), v, v.stride(), e, list(e.shape), s]


def _as_strided_(lib):
    a = lib.arange(8.0)
    r = a.as_strided_((2, 3), (1, 2), 1)
    b = lib.arange(8.0).view(2, 4)[1]
    b.as_strided_((2,), (2,))
    return [r is a, a, a.stride(), a.storage_offset(), b, b.storage_offset()]


def _sparse_accessor(name):
    return lambda lib: getattr(lib.ones(2), name)()


TENSOR_NAMES = [
    Call('Tensor', 'resize_as_', [Case('shapes', _resize_as),
                                  Case('requires grad', lambda lib: lib.ones(2, requires_grad=True).resize_as_(
                                      lib.ones(3)), error=True)], exact=True),
    Call('Tensor', 'set_', [Case('tensor and storages', _set),
                            Case('other dtype', lambda lib: lib.ones(3).set_(lib.ones(2, dtype=lib.int64)), error=True),
                            Case('leaf requiring grad', lambda lib: lib.ones(3, requires_grad=True).set_(lib.ones(2)),
                                 error=True)], exact=True),
    Call('Tensor', 'as_strided_', [Case('views', _as_strided_),
                                   Case('out of bounds', lambda lib: lib.arange(4.0).as_strided_((3,), (2,)), error=True),
                                   Case('leaf requiring grad', lambda lib: lib.ones(3, requires_grad=True).as_strided_(
                                       (2,), (1,)), error=True)], exact=True),
    Call('Tensor', 'storage_type', [Case('dtypes', lambda lib: [repr(lib.ones(1, dtype=d).storage_type()) for d in (
        lib.float32, lib.float64, lib.float16, lib.int64, lib.int32, lib.int16, lib.int8, lib.uint8, lib.bool)])]),
    Call('Tensor', 'to_sparse_coo', [Case('dense', lambda lib: lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse_coo()),
                                     Case('sparse', lambda lib: (lambda s: [s.to_sparse_coo() is s, s.is_coalesced()])(
                                         lib.tensor([[0.0, 1.0]]).to_sparse()))]),
] + [Call('Tensor', name, [Case('strided', _sparse_accessor(name), error=True),
                           Case('sparse', lambda lib, n=name: getattr(lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(), n)())])
     for name in ('indices', 'values', 'coalesce', 'is_coalesced')]


STORAGES = [Call('', name, [Case('made and checked', _storages(name)),
                            Case('str', lambda lib, n=name: getattr(lib, n)('ab'), error=True)])
            for name in ('FloatStorage', 'DoubleStorage', 'HalfStorage', 'LongStorage', 'IntStorage', 'ShortStorage',
                         'CharStorage', 'ByteStorage', 'BoolStorage', 'ComplexFloatStorage', 'ComplexDoubleStorage')]
STORAGES += [
    Call('', 'TypedStorage', [Case('of a tensor', lambda lib: [type(lib.ones(2).storage()) is lib.TypedStorage,
                                                               repr(lib.TypedStorage), lib.is_storage(lib.FloatStorage(2))]),
                              Case("new", lambda lib: [repr(lib.TypedStorage([1, 2]).dtype),
                                                       lib.TypedStorage(3, dtype=lib.int64).size(),
                                                       repr(lib.TypedStorage([1.0, 2.0], dtype=lib.float64)),
                                                       lib.TypedStorage(wrap_storage=lib.UntypedStorage([0, 0, 128, 63]),
                                                                        dtype=lib.float32).tolist()]),
                              Case('shared', lambda lib: [lib.ones(2).storage().share_memory_().is_shared(),
                                                          lib.ones(2).storage().is_pinned()])]),
    Call('', 'UntypedStorage', [Case('of a tensor', lambda lib: [
        type(lib.ones(2).untyped_storage()) is lib.UntypedStorage, repr(lib.UntypedStorage),
        lib.ones(2).storage().untyped().nbytes()]),
        Case('new', lambda lib: [lib.UntypedStorage(5).nbytes(), list(lib.UntypedStorage([1, 256, -1])),
                                 repr(lib.UntypedStorage([7, 8])), lib.UntypedStorage().nbytes()]),
        Case('methods', lambda lib: (lambda u: [list(u.clone()), list(u.fill_(300)), list(u.resize_(2)),
                                                list(u.copy_(lib.UntypedStorage([4, 5]))), u.is_pinned(),
                                                u.share_memory_().is_shared(), list(u[1:]), u.cpu() is u])(
            lib.UntypedStorage([1, 2, 3]))),
        Case("a tensor's, shared", lambda lib: (lambda t: [t.untyped_storage().is_shared(),
                                                         t.untyped_storage().share_memory_().is_shared(),
                                                         t.is_shared()])(lib.ones(3))),
        Case('writes the tensor', lambda lib: (lambda t: (t.untyped_storage().__setitem__(0, 255), t)[1])(
            lib.zeros(2))),
        Case('float items', lambda lib: lib.UntypedStorage([1.5]), error=True),
        Case('two sizes', lambda lib: lib.UntypedStorage(3, 4), error=True),
        Case('copy_ of another size', lambda lib: lib.UntypedStorage(3).copy_(lib.UntypedStorage(4)), error=True),
        Case('index out of range', lambda lib: lib.UntypedStorage(3)[5], error=True),
        Case('pin_memory', lambda lib: lib.UntypedStorage(3).pin_memory(), error=True)]),
    Call('', 'Storage', [Case('alias', lambda lib: [lib.Storage is lib.FloatStorage, repr(lib.Storage),
                                                    lib.Storage([1, 2]).tolist(), lib.Storage(3).size()])]),
    Call('', 'svd_lowrank', [
        Case('tall', _lowrank('svd_lowrank', (9, 5), q=3)), Case('wide', _lowrank('svd_lowrank', (4, 10), q=4)),
        Case('niter 0', _lowrank('svd_lowrank', (8, 6), q=6, niter=0)), Case('batched', _lowrank('svd_lowrank', (2, 7, 5))),
        Case('M', lambda lib: _lowrank('svd_lowrank', (7, 5), q=5, M=lib.ones(5, dtype=lib.float64))(lib)),
        Case('float32', _lowrank('svd_lowrank', (8, 5), dtype='float32', q=2)),
        Case('sparse', _lowrank('svd_lowrank', (9, 6), q=6, sparse=True))]),
    Call('', 'pca_lowrank', [
        Case('default q', _lowrank('pca_lowrank', (12, 5))), Case('q 3', _lowrank('pca_lowrank', (12, 7), q=3)),
        Case('not centred', _lowrank('pca_lowrank', (9, 5), q=5, center=False)),
        Case('sparse', _lowrank('pca_lowrank', (9, 5), q=4, sparse=True)),
        Case('q too big', _lowrank('pca_lowrank', (4, 3), q=4), error=True),
        Case('niter < 0', _lowrank('pca_lowrank', (4, 3), niter=-1), error=True)]),
    Call('', 'cond', [Case('branches', _cond),
                      Case('two-element pred', lambda lib: lib.cond(lib.ones(2), lambda t: t, lambda t: t, (lib.ones(1),)),
                           error=True),
                      Case('operand not a tensor', lambda lib: lib.cond(lib.tensor(True), lambda t: t, lambda t: t, (1,)),
                           error=True),
                      Case('pred a string', lambda lib: lib.cond('a', lambda: 1, lambda: 2), error=True)]),
    Call('', 'while_loop', [Case('loops', _while),
                            Case('float carried', lambda lib: lib.while_loop(lambda x: x < 1, lambda x: x + 1, (0.5,)),
                                 error=True),
                            Case('not callable', lambda lib: lib.while_loop(1, lambda x: x, (lib.ones(1),)), error=True)]),
]


SYM = [Call('', f'sym_{name}', cases) for name, cases in {
    'int': [Case('float', _sym('int', 2.7)), Case('negative float', _sym('int', -2.7)), Case('int', _sym('int', 5)),
            Case('numpy', _sym('int', np.float32(3.9))), Case('bool', _sym('int', True)),
            Case('str', _sym('int', '12')), Case('None', _sym('int', None), error=True)],
    'float': [Case('int', _sym('float', 3)), Case('numpy', _sym('float', np.int64(4))), Case('float', _sym('float', 1.5)),
              Case('list', _sym('float', [1]), error=True)],
    'max': [Case('ints', _sym('max', 2, 7)), Case('int, float', _sym('max', 1, 2.0)), Case('float wins', _sym('max', 3.5, 2)),
            Case('numpy', _sym('max', np.int64(3), 2)), Case('bool', _sym('max', True, 0)),
            Case('str', _sym('max', 'a', 1), error=True)],
    'min': [Case('ints', _sym('min', 2, 7)), Case('int, float', _sym('min', 1, 2.0)), Case('bool', _sym('min', True, 2)),
            Case('None', _sym('min', None, 2), error=True)],
    'not': [Case('True', _sym('not', True)), Case('0', _sym('not', 0)), Case('list', _sym('not', []))],
    'ite': [Case('True', _sym('ite', True, 1, 2)), Case('False', _sym('ite', False, 'a', 'b')),
            Case('int condition', _sym('ite', 1, 1, 2), error=True), Case('types differ', _sym('ite', True, 1, 2.0),
                                                                          error=True)],
    'sqrt': [Case('int', _sym('sqrt', 4)), Case('float', _sym('sqrt', 2.0)), Case('bool', _sym('sqrt', True)),
             Case('negative', _sym('sqrt', -1.0), error=True)],
    'sum': [Case('list', _sym('sum', [1, 2, 3])), Case('args', _sym('sum', 1, 2.5, 3)), Case('tuple', _sym('sum', (4, 5))),
            Case('empty', _sym('sum', []))],
}.items()] + [Call('', name, [Case('isinstance', _sym_classes)]) for name in ('SymInt', 'SymFloat', 'SymBool')]


FUNCTIONS = [
    Call('', 'GradScaler', [Case('cpu step', _grad_scaler)]),
    Call('', 'is_inference', [Case('modes', _is_inference), Case('not a tensor', lambda lib: lib.is_inference(1.0),
                                                                 error=True)]),
    Call('', 'are_deterministic_algorithms_enabled', [Case('round trip', _det)]),
    Call('', 'is_deterministic_algorithms_warn_only_enabled', [Case('round trip', _det)]),
    Call('', 'fill_', [Case('values', _fill),
                       Case('1-d value', lambda lib: lib.fill_(lib.zeros(3), lib.ones(2)), error=True)], exact=True),
    Call('', 'zero_', [Case('values', lambda lib: [lib.zero_(lib.ones(2, 2)), lib.zero_(lib.ones(2, dtype=lib.bool)),
                                                   lib.zero_(lib.ones(3, dtype=lib.int64)[::2])])], exact=True),
    Call('', 'is_storage', [Case('not storages', lambda lib: [lib.is_storage(lib.zeros(2)), lib.is_storage([1]),
                                                              lib.is_storage(np.zeros(2))])]),
    Call('', 'from_dlpack', [Case('numpy', lambda lib: lib.from_dlpack(np.array(EXTREME))),
                             Case('tensor', lambda lib: lib.from_dlpack(lib.arange(3))),
                             Case('the other library', lambda lib: lib.from_dlpack(_other(lib).arange(4.).reshape(2, 2).t())),
                             Case('shares memory', lambda lib: (lambda a: [lib.from_dlpack(a).add_(1), a.tolist()])(
                                 np.arange(3.))),
                             Case('a list', lambda lib: lib.from_dlpack([1, 2]), error=True)], exact=True),
    Call('', 'get_deterministic_debug_mode', [Case('levels', _debug_modes)]),
    Call('', 'Stream', [Case('on the cpu', lambda lib: [repr(lib.Stream()), lib.Stream().device_type, lib.Stream().query(),
                                                       lib.Stream('cpu') == lib.Stream(), repr(lib.Stream('meta'))]),
                        Case('no events on the cpu', lambda lib: lib.Stream().record_event(), error=True),
                        Case('cuda', lambda lib: lib.Stream('cuda'), error=True)]),
    Call('', 'Event', [Case('on the cpu', lambda lib: [repr(lib.Event()), repr(lib.Event(enable_timing=True)),
                                                      lib.Event().query(), lib.Event().event_id]),
                       Case('not recorded', lambda lib: lib.Event().record(), error=True)]),
    Call('', 'get_device_module', [Case('cpu and cuda', lambda lib: [
        lib.get_device_module() is lib.cpu, lib.get_device_module('cuda:0') is lib.cuda,
        lib.get_device_module(lib.device('cpu')) is lib.cpu]),
        Case('meta has none', lambda lib: lib.get_device_module('meta'), error=True)]),
    Call('', 'set_deterministic_debug_mode', [Case('levels', _debug_modes),
                                              Case('unknown name', lambda lib: lib.set_deterministic_debug_mode('x'),
                                                   error=True),
                                              Case('out of range', lambda lib: lib.set_deterministic_debug_mode(3),
                                                   error=True),
                                              Case('a float', lambda lib: lib.set_deterministic_debug_mode(1.0),
                                                   error=True)]),
    Call('', 'use_deterministic_algorithms', [Case('round trip', _det),
                                              Case('not a bool', lambda lib: lib.use_deterministic_algorithms('yes'),
                                                   error=True)]),
    Call('', 'compile', [Case('function and module', _compiled),
                         Case('unknown mode', lambda lib: lib.compile(lambda x: x, mode='bogus'), error=True),
                         Case('mode and options', lambda lib: lib.compile(lambda x: x, mode='default', options={}),
                              error=True),
                         Case('unknown backend', lambda lib: lib.compile(lambda x: x, backend='no-such-backend')(
                             lib.ones(1)), error=True),
                         Case('module wrapper', _compiled_module)]),
]


# -- submodules ------------------------------------------------------------------------------------------
SUBMODULES = {
    'optim.adadelta': ('Adadelta', 'adadelta'), 'optim.adagrad': ('Adagrad', 'adagrad'), 'optim.adam': ('Adam', 'adam'),
    'optim.adamax': ('Adamax', 'adamax'), 'optim.asgd': ('ASGD', 'asgd'), 'optim.lbfgs': ('LBFGS',),
    'optim.lr_scheduler': ('LambdaLR', 'MultiplicativeLR', 'StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR',
                           'ExponentialLR', 'SequentialLR', 'CosineAnnealingLR', 'ChainedScheduler',
                           'ReduceLROnPlateau', 'CyclicLR', 'CosineAnnealingWarmRestarts', 'OneCycleLR', 'PolynomialLR',
                           'LRScheduler'),
    'optim.adamw': ('AdamW', 'adamw'), 'optim.nadam': ('NAdam', 'nadam'),
    'optim.optimizer': ('Optimizer', 'register_optimizer_step_pre_hook', 'register_optimizer_step_post_hook'),
    'optim.radam': ('RAdam', 'radam'), 'optim.rmsprop': ('RMSprop', 'rmsprop'), 'optim.rprop': ('Rprop', 'rprop'),
    'optim.sgd': ('SGD', 'sgd'), 'optim.sparse_adam': ('SparseAdam',),
    'optim.swa_utils': ('AveragedModel', 'update_bn', 'SWALR', 'get_ema_multi_avg_fn', 'get_swa_multi_avg_fn',
                        'get_ema_avg_fn', 'get_swa_avg_fn'),
    'nn.utils.clip_grad': ('clip_grad_norm', 'clip_grad_norm_', 'clip_grad_value_'),
    'nn.utils.convert_parameters': ('parameters_to_vector', 'vector_to_parameters'),
    'nn.utils.parametrize': ('ParametrizationList', 'cached', 'is_parametrized', 'register_parametrization',
                             'remove_parametrizations', 'transfer_parametrizations_and_params',
                             'type_before_parametrizations'),
    'nn.utils.parametrizations': ('orthogonal', 'spectral_norm', 'weight_norm'),
    'nn.utils.prune': ('BasePruningMethod', 'CustomFromMask', 'Identity', 'L1Unstructured', 'LnStructured',
                       'PruningContainer', 'RandomStructured', 'RandomUnstructured', 'custom_from_mask',
                       'global_unstructured', 'identity', 'is_pruned', 'l1_unstructured', 'ln_structured',
                       'random_structured', 'random_unstructured', 'remove'),
    'nn.utils.rnn': ('PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence',
                     'pad_sequence', 'unpad_sequence', 'pack_sequence', 'unpack_sequence'),
    'nn.utils.fusion': ('fuse_conv_bn_eval', 'fuse_conv_bn_weights', 'fuse_linear_bn_eval', 'fuse_linear_bn_weights'),
    'nn.utils.memory_format': ('convert_conv2d_weight_memory_format', 'convert_conv3d_weight_memory_format'),
    'nn.utils.stateless': ('functional_call',),
    'cuda.nvtx': ('range_push', 'range_pop', 'range_start', 'range_end', 'mark', 'range'),
    'autograd.function': ('FunctionCtx', 'BackwardCFunction', 'FunctionMeta', 'Function', 'once_differentiable',
                          'InplaceFunction', 'NestedIOFunction'),
    'autograd.functional': ('vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp'),
    'autograd.grad_mode': ('no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode', 'set_multithreading_enabled',
                           'enforce_grad_layout_policy'),
    'autograd.graph': ('saved_tensors_hooks', 'save_on_cpu', 'disable_saved_tensors_hooks', 'register_multi_grad_hook',
                       'allow_mutation_on_saved_tensors', 'Node', 'GradientEdge', 'get_gradient_edge',
                       'increment_version', 'region_activation_memory_budget',
                       'set_warn_on_accumulate_grad_stream_mismatch', 'set_override_stale_capture_stream'),
    'autograd.variable': ('VariableMeta', 'Variable'),
    'futures': ('Future', 'collect_all', 'wait_all'),
    'distributed.nn.functional': ('all_reduce', 'all_gather', 'broadcast'),
    'distributed.nn': ('all_reduce', 'all_gather', 'broadcast'),
    'distributed.constants': ('default_pg_timeout', 'default_pg_nccl_timeout'),
    'distributed.optim': ('as_functional_optim', 'DistributedOptimizer', 'PostLocalSGDOptimizer',
                          'ZeroRedundancyOptimizer'),
    'types': ('Number', 'Device', 'FileLike', 'Storage'),
    'utils.flop_counter': ('FlopCounterMode',),
    'utils.module_tracker': ('ModuleTracker',),
    'ao.quantization': ('ObserverBase', 'FakeQuantizeBase'),
    'profiler.profiler': ('profile', 'schedule', 'tensorboard_trace_handler', 'ProfilerAction', 'ProfilerActivity',
                          'kineto_available', 'supported_activities'),
    'utils.checkpoint': ('checkpoint', 'checkpoint_sequential', 'CheckpointError', 'CheckpointFunction',
                         'check_backward_validity', 'detach_variable', 'noop_context_fn', 'set_checkpoint_early_stop',
                         'set_checkpoint_debug_enabled', 'DefaultDeviceType', 'get_device_states', 'set_device_states'),
    'amp': ('autocast', 'custom_bwd', 'custom_fwd', 'is_autocast_available', 'GradScaler'),
    'autograd': ('Variable', 'Function', 'backward', 'grad_mode', 'NestedIOFunction', 'detect_anomaly', 'enable_grad',
                 'grad', 'gradcheck', 'gradgradcheck', 'inference_mode', 'no_grad', 'set_detect_anomaly',
                 'set_grad_enabled', 'set_multithreading_enabled', 'enforce_grad_layout_policy', 'variable'),
    'random': ('set_rng_state', 'get_rng_state', 'manual_seed', 'seed', 'initial_seed', 'fork_rng',
               'thread_safe_generator'),
    'linalg': ('LinAlgError', 'cholesky', 'cholesky_ex', 'cond', 'cross', 'det', 'diagonal', 'eig', 'eigh', 'eigvals',
               'eigvalsh', 'householder_product', 'inv', 'inv_ex', 'ldl_factor', 'ldl_factor_ex', 'ldl_solve', 'lstsq',
               'lu', 'lu_factor', 'lu_factor_ex', 'lu_solve', 'matmul', 'matrix_exp', 'matrix_norm', 'matrix_power',
               'matrix_rank', 'multi_dot', 'norm', 'pinv', 'qr', 'slogdet', 'solve', 'solve_ex', 'solve_triangular',
               'svd', 'svdvals', 'tensorinv', 'tensorsolve', 'vander', 'vecdot', 'vector_norm'),
}


# the names of each submodule that are the very objects of its package's names in PyTorch
# (torch.optim.adam.Adam is torch.optim.Adam; torch.optim.lr_scheduler's are not in torch.optim)
SAME = {p: ('Adadelta', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'ASGD', 'LBFGS', 'NAdam', 'Optimizer', 'RAdam', 'RMSprop',
            'Rprop',
            'SGD', 'SparseAdam') for p in SUBMODULES if p.startswith('optim.')}
SAME.update({'nn.utils.clip_grad': SUBMODULES['nn.utils.clip_grad'],
             'distributed.nn.functional': SUBMODULES['distributed.nn.functional'],
             'nn.utils.convert_parameters': SUBMODULES['nn.utils.convert_parameters'],
             'nn.utils.fusion': SUBMODULES['nn.utils.fusion'], 'nn.utils.memory_format': SUBMODULES['nn.utils.memory_format'],
             'autograd.function': ('Function', 'NestedIOFunction'), 'autograd.grad_mode': SUBMODULES['autograd.grad_mode'],
             'amp': ('autocast', 'GradScaler'), 'autograd': ('enable_grad', 'inference_mode', 'no_grad', 'set_grad_enabled'),
             # not manual_seed: importing torch._dynamo (torch.compile) replaces torch.manual_seed with a wrapper
             'random': ('set_rng_state', 'get_rng_state', 'seed', 'initial_seed', 'thread_safe_generator')})


def _kind(obj):
    if isinstance(obj, type):
        return 'class'
    if callable(obj):
        return 'callable'
    return type(obj).__name__


def _public(lib, path, names):
    """For each public name of PyTorch's submodule: 'missing' where the submodule lacks it; for the names PyTorch's
    package shares (``SAME``) whether the package's name is the same object; for the rest, the kind of object."""
    mod = importlib.import_module(f'{lib.__name__}.{path}')
    pkg = importlib.import_module('.'.join([lib.__name__] + path.split('.')[:-1]))
    out = {}
    for n in names:
        if not hasattr(mod, n):
            out[n] = 'missing'
        elif n in SAME.get(path, ()):
            out[n] = 'the package\'s' if getattr(pkg, n, None) is getattr(mod, n) else 'not the package\'s'
        else:
            out[n] = _kind(getattr(mod, n))
    return out


def _missing(path, why):
    return {'case:names': f'ember\'s {path} lacks {why}'}


# -- the torch internals PyTorch Lightning 2.6 reads (lightning/fabric, lightning/pytorch) ---------------------------
def _file_reader(lib):
    """Each library saves, ``lib.PyTorchFileReader`` reads the records back (lightning/fabric/utilities/load.py)."""
    import tempfile
    out = []
    with tempfile.TemporaryDirectory() as d:
        for saver in (lib, _other(lib)):
            path = f'{d}/{saver.__name__}.pt'
            saver.save({'w': saver.tensor([1.0, -2.0, 0.5])}, path)
            r = lib.PyTorchFileReader(path)
            out.append([sorted(r.get_all_records()), r.get_record('byteorder'), r.get_record('data/0'),
                        r.get_record_size('data/0'), r.has_record('data.pkl'), r.has_record('nope'),
                        len(r.serialization_id()) > 0])
    return out


def _reader_missing(lib):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        lib.save(lib.ones(2), f'{d}/x.pt')
        return lib.PyTorchFileReader(f'{d}/x.pt').get_record('nope')


def _parse_to(lib):
    """``torch._C._nn._parse_to`` (lightning/fabric/utilities/device_dtype_mixin.py parses ``Module.to``'s
    arguments with it)."""
    P = lambda *a, **k: str(lib._C._nn._parse_to(*a, **k))
    return [P('cpu'), P(lib.float64), P('cpu', lib.float16, non_blocking=True), P(lib.ones(2, dtype=lib.int32)),
            P(device='cpu'), P(memory_format=lib.channels_last), P(lib.ones(1), non_blocking=True),
            P('cpu', lib.float64, True), P('meta'), P(None)]


def _flops(lib):
    from importlib import import_module
    fc = import_module(f'{lib.__name__}.utils.flop_counter').FlopCounterMode(mods=None, display=False, depth=2)
    return [fc.get_total_flops(), fc.get_flop_counts()]


def _lightning_pytree(lib):
    """lightning/pytorch/utilities/_pytree.py: flatten through ``SUPPORTED_NODES[_get_node_type(x)].flatten_fn``
    into ``TreeSpec(node_type, context, children)``/``LeafSpec()``, then ``tree_unflatten``."""
    from importlib import import_module
    import collections
    pt = import_module(f'{lib.__name__}.utils._pytree')

    def flatten(tree):
        kind = pt._get_node_type(tree)
        if kind not in pt.SUPPORTED_NODES:
            return [tree], pt.LeafSpec()
        children, context = pt.SUPPORTED_NODES[kind].flatten_fn(tree)
        leaves, specs = [], []
        for c in children:
            flat, spec = flatten(c)
            leaves += flat
            specs.append(spec)
        return leaves, pt.TreeSpec(kind, context, specs)
    Pair = collections.namedtuple('Pair', 'a b')
    tree = {'x': (lib.ones(2), [3, 'a']), 'p': Pair(1.5, lib.max(lib.tensor([[1.0, 4.0], [3.0, 2.0]]), 1)),
            'o': collections.OrderedDict(k=None)}
    leaves, spec = flatten(tree)
    return [leaves, str(spec), pt.tree_unflatten([str(v) for v in leaves], spec), pt.PyTree is __import__('typing').Any,
            list(pt.SUPPORTED_NODES[tuple]._fields), pt._get_node_type(Pair(1, 2)) is collections.namedtuple,
            pt.TreeSpec(None, None, []).is_leaf(), pt.tree_flatten(3)[1].is_leaf()]


def _names(path):
    return Case('names', lambda lib: _public(lib, path, SUBMODULES[path]))


def _profiler_enabled(lib):
    out = [lib.autograd._profiler_enabled()]
    with lib.profiler.profile():
        out.append(lib.autograd._profiler_enabled())
    with lib.autograd.profiler.profile(enabled=False):
        out.append(lib.autograd._profiler_enabled())
    return out + [lib.autograd._profiler_enabled()]


def _trace_metadata(lib):
    """lightning/pytorch/profilers/pytorch.py adds 'Framework' to the trace it exports."""
    import json
    import tempfile
    with lib.profiler.profile() as prof:
        lib.ones(2).sum()
        prof.add_metadata('Framework', 'pytorch-lightning')
        prof.add_metadata_json('ids', '[1, 2]')
    with tempfile.TemporaryDirectory() as d:
        prof.export_chrome_trace(f'{d}/trace.json')
        with open(f'{d}/trace.json') as f:
            trace = json.load(f)
    return [trace['Framework'], trace['ids'], list(trace)[:5]]


LIGHTNING = [
    Call('autograd', '_profiler_enabled', [Case('outside, inside, disabled', _profiler_enabled)]),
    Call('profiler.profile', 'add_metadata', [Case('in the chrome trace', _trace_metadata)]),
    Call('', 'PyTorchFileReader', [Case('records of both libraries\' files', _file_reader),
                                   Case('a missing record', _reader_missing, error=True),
                                   Case('no such file', lambda lib: lib.PyTorchFileReader('/no/such/file.pt'),
                                        error=True)]),
    Call('', 'ScriptModule', [Case('nothing eager is one', lambda lib: [
        lib.ScriptModule is lib._C.ScriptModule, isinstance(lib.nn.Linear(2, 2), lib.ScriptModule),
        issubclass(lib.jit.ScriptModule, lib.ScriptModule)]),
        Case('not made from Python', lambda lib: lib.ScriptModule(), error=True)]),
    Call('_C', '_TensorMeta', [Case('the metaclass of Tensor', lambda lib: [
        type(lib.Tensor) is lib._C._TensorMeta, isinstance(lib.nn.Parameter, lib._C._TensorMeta),
        isinstance(lib.Size, lib._C._TensorMeta), isinstance(type(lib.ones(1)), lib._C._TensorMeta)])]),
    Call('_C', '_log_api_usage_once', [Case('an event', lambda lib: lib._C._log_api_usage_once('lightning.trainer')),
                                       Case('not a string', lambda lib: lib._C._log_api_usage_once(3), error=True)]),
    Call('_C._nn', '_parse_to', [Case('devices, dtypes, tensors', _parse_to),
                                 Case('copy', lambda lib: lib._C._nn._parse_to('cpu', copy=True), error=True),
                                 Case('Module.to copy', lambda lib: lib.nn.Linear(1, 1).to(copy=True), error=True)]),
    Call('distributed', 'constants', [_names('distributed.constants'), Case('timeouts', lambda lib: [
        lib.distributed.constants.default_pg_timeout, lib.distributed.constants.default_pg_nccl_timeout,
        lib.distributed.default_pg_timeout is lib.distributed.constants.default_pg_timeout])]),
    Call('utils', 'flop_counter', [_names('utils.flop_counter'), Case('nothing counted', _flops)]),
    Call('_dynamo', 'OptimizedModule', [Case('a Module class', lambda lib: (
        lambda O: [O.__name__, issubclass(O, lib.nn.Module), isinstance(lib.nn.Linear(2, 2), O)])(
        importlib.import_module(f'{lib.__name__}._dynamo').OptimizedModule))]),
    Call('utils._pytree', '_get_node_type', [Case('lightning\'s flatten', _lightning_pytree)]),
    Call('profiler', 'kineto_available', [Case('CPU build', lambda lib: lib.profiler.kineto_available())]),
    Call('autograd.profiler', 'emit_nvtx', [
        Case('disabled', lambda lib: lib.autograd.profiler.emit_nvtx(enabled=False).__enter__()),
        Case('enabled without CUDA', lambda lib: lib.autograd.profiler.emit_nvtx().__enter__(), error=True)]),
    Call('cuda', 'get_rng_state_all', [Case('no devices', lambda lib: [lib.cuda.get_rng_state_all(),
                                                                       lib.cuda.set_rng_state_all([])]),
                                       Case('a state kept for CUDA', lambda lib: lib.cuda.set_rng_state_all(
                                           [lib.get_rng_state()])),
                                       Case('not a state', lambda lib: lib.cuda.set_rng_state_all([3]), error=True),
                                       Case('get_rng_state', lambda lib: lib.cuda.get_rng_state(), error=True)]),
]

def _stateless_call(lib):
    """The deprecated stateless.functional_call: the module run with other weights (and its FutureWarning)."""
    import warnings
    lin = lib.nn.Linear(2, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        out = lib.nn.utils.stateless.functional_call(
            lin, {'weight': lib.tensor([[1.0, 2.0], [3.0, 4.0]]), 'bias': lib.tensor([0.5, -1.0])},
            (lib.tensor([[1.0, -1.0]]),))
    return [out, [x.category.__name__ for x in w], lin.weight.shape]


def _futures(lib):
    """torch.futures as programs use it: pending futures completed later, ``then`` chains (an error in a callback
    becomes PyTorch's RuntimeError), done callbacks, collect_all/wait_all, a stored exception, jit.fork's."""
    F = lib.futures.Future
    f, seen = F(), []
    g = f.then(lambda fut: fut.wait() * 2)
    f.add_done_callback(lambda fut: seen.append(fut.value()))
    before = [f.done(), g.done()]
    f.set_result(lib.tensor([1.0, 2.0]))
    h = F()
    h2 = h.then(lambda fut: fut.wait() + 1)
    h.set_exception(KeyError('x'))
    errors = []
    for fut in (h, h2):
        try:
            fut.wait()
        except Exception as exc:  # noqa: BLE001 - the error is the result
            errors.append((type(exc).__name__, str(exc).split('\n')[0]))
    pending = [F(), F()]
    collected = lib.futures.collect_all(pending)
    mid = collected.done()
    pending[1].set_result(2)
    pending[0].set_result(1)
    late = []
    f.add_done_callback(lambda fut: late.append(1))
    return [before, f.wait(), g.wait(), seen, errors, mid, [x.wait() for x in collected.wait()],
            lib.futures.wait_all(pending), late, lib.jit.Future is F, lib.jit.fork(lambda a: a * 3, 2).wait(),
            lib.futures.collect_all([]).wait()]


def _device_states(lib):
    """get_device_states/set_device_states as reversible layers call them on CPU tensors (nested, with
    non-tensors and a meta tensor): no device ids or states; restoring none, or any on 'meta', does nothing."""
    cp = lib.utils.checkpoint
    got = cp.get_device_states(lib.ones(2), [lib.zeros(1, dtype=lib.int64), {'k': lib.ones(1)}], 3, None)
    meta = cp.get_device_states(lib.ones(2, device='meta'))
    cp.set_device_states([], [])
    cp.set_device_states([0], [lib.ones(1)], device_type='meta')
    return [got, meta, cp.DefaultDeviceType.get_device_type(), cp.DefaultDeviceType._default_device_type]


def _sub(path, extra=(), gaps=None):
    ns, _, name = path.rpartition('.')
    return Call(ns, name, [Case('names', lambda lib: _public(lib, path, SUBMODULES[path]))] + list(extra),
                gaps=gaps)


def _store_ops(store):
    """A key-value store's answers to each operation, in order (keys listed sorted: their order is a hash's)."""
    import datetime
    out = [store.num_keys(), store.set('a', 'x'), store.get('a'), store.add('c', 2), store.add('c', 3),
           store.check(['a', 'z']), store.compare_set('q', '', 'v'), store.compare_set('a', 'x', b'y'),
           store.compare_set('a', 'no', 'w'), store.delete_key('a'), store.delete_key('a'), store.num_keys()]
    store.append('l', 'ab'), store.append('l', b'cd'), store.multi_set(['m', 'n'], ['1', b'2'])
    store.wait(['m', 'n'], datetime.timedelta(seconds=1))
    return out + [store.multi_get(['l', 'c', 'n']), sorted(store.list_keys()), store.timeout]


def _store_timeout(lib):
    import datetime
    store = lib.distributed.HashStore()
    store.set_timeout(datetime.timedelta(milliseconds=50))
    return store.get('missing')


def _saved_hooks(lib):
    """What each pack and unpack hook receives (shapes, grad_fn names, values), in order, and the gradients."""
    log = []
    x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    w = lib.tensor([[0.5, 1.0], [-1.0, 2.0]], requires_grad=True)
    def pack(t):
        log.append([t.detach().clone(), None if t.grad_fn is None else t.grad_fn.name()])
        return t.detach()
    with lib.autograd.graph.saved_tensors_hooks(pack, lambda p: (log.append(p.shape), p)[1]):
        y = ((x * w).tanh() @ w).exp().sum()
    y.backward()
    return log, x.grad, w.grad


def _save_on_cpu(lib):
    x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    with lib.autograd.graph.save_on_cpu():
        y = (x @ x).sigmoid().sum()
    y.backward()
    return x.grad


def _multi_grad_hook(lib):
    """Mode 'all' waits for the gradients this backward computes (None for the rest); 'any' takes the first."""
    calls = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    c, d = a * b, a * b
    lib.autograd.graph.register_multi_grad_hook((a, b, c, d), calls.append)
    lib.autograd.graph.register_multi_grad_hook((a, b), calls.append, mode='any')
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=[a])
    return calls


def _gradient_edge(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h ** 2).sum()
    return lib.autograd.grad(y, (lib.autograd.graph.get_gradient_edge(h), lib.autograd.graph.get_gradient_edge(x)))


def _optim_step(name, **kw):
    """A class reached through its submodule steps as PyTorch's."""
    def fn(lib):
        mod = importlib.import_module(f'{lib.__name__}.optim.{name.lower()}')
        w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = getattr(mod, name)([w], **kw)
        for _ in range(2):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        return w.detach()
    return fn


def _functional_step(name):
    """PyTorch's functional form ``torch.optim.<name>.<name>`` over seven steps of two params (its states made as
    the class makes them; gradients 2w + 0.1, so the moments, signs and RAdam's rectification all move): the
    params and every state tensor after them."""
    def fn(lib):
        mod = importlib.import_module(f'{lib.__name__}.optim.{name}')
        ps = [lib.tensor([1.0, -2.0, 0.5]), lib.tensor([[0.3, -0.1], [2.0, 1.5]])]
        zeros = lambda: [lib.zeros_like(p) for p in ps]   # noqa: E731
        ones = lambda v=1.0: [lib.tensor(v) for _ in ps]   # noqa: E731
        steps = [lib.tensor(0.0) for _ in ps]
        adam_kw = dict(beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.01, eps=1e-8)
        states, kw = {
            'adam': ([zeros(), zeros(), zeros(), steps], dict(adam_kw, amsgrad=True, maximize=False)),
            'adamw': ([zeros(), zeros(), [], steps], dict(adam_kw, amsgrad=False, maximize=False)),
            'sgd': ([[None, None]], dict(weight_decay=0.01, momentum=0.9, lr=0.1, dampening=0.1, nesterov=False,
                                         maximize=False)),
            'adagrad': ([[lib.full_like(p, 0.1) for p in ps], steps], dict(lr=0.1, weight_decay=0.01, lr_decay=0.01,
                                                                            eps=1e-10, maximize=False)),
            'rmsprop': ([zeros(), zeros(), zeros(), steps], dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.01,
                                                                 momentum=0.9, centered=True)),
            'adadelta': ([zeros(), zeros(), steps], dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.01,
                                                         maximize=False)),
            'adamax': ([zeros(), zeros(), steps], dict(adam_kw)),
            'nadam': ([zeros(), zeros(), ones(), steps], dict(adam_kw, momentum_decay=4e-3)),
            'radam': ([zeros(), zeros(), steps], dict(adam_kw)),
            'asgd': ([zeros(), ones(), ones(0.1), steps], dict(lambd=1e-4, lr=0.1, t0=2, alpha=0.75,
                                                               weight_decay=0.01)),
            'rprop': ([zeros(), [lib.full_like(p, 0.1) for p in ps], steps], dict(step_size_min=1e-6, step_size_max=50,
                                                                                  etaminus=0.5, etaplus=1.2)),
        }[name]
        for _ in range(7):
            grads = [p * 2 + 0.1 for p in ps]
            getattr(mod, name)(ps, grads, *states, **kw)
        return ps, states
    return fn


_OPTIM_CLASSES = {'adadelta': 'Adadelta', 'adagrad': 'Adagrad', 'adam': 'Adam', 'adamax': 'Adamax', 'asgd': 'ASGD',
                  'nadam': 'NAdam', 'radam': 'RAdam', 'rmsprop': 'RMSprop', 'rprop': 'Rprop', 'sgd': 'SGD',
                  'adamw': 'AdamW'}
SUBS = [_sub(f'optim.{m}', [Case('step', _optim_step(c, lr=0.1)), Case('functional', _functional_step(m))])
        for m, c in _OPTIM_CLASSES.items()]
SUBS += [
    _sub('optim.lbfgs'), _sub('optim.lr_scheduler'), _sub('optim.optimizer'), _sub('optim.sparse_adam'),
    _sub('optim.swa_utils'), _sub('nn.utils.clip_grad'), _sub('nn.utils.convert_parameters'), _sub('nn.utils.rnn'),
    _sub('nn.utils.parametrize'), _sub('nn.utils.prune'),
    _sub('nn.utils.parametrizations'),
    _sub('nn.utils.fusion'), _sub('nn.utils.memory_format'),
    _sub('cuda.nvtx', [  # asdl (laplace-torch's backend) imports it; a CPU-only build fails each call
        Case('range_push without CUDA', lambda lib: lib.cuda.nvtx.range_push('a'), error=True),
        Case('range_pop without CUDA', lambda lib: lib.cuda.nvtx.range_pop(), error=True),
        Case('mark without CUDA', lambda lib: lib.cuda.nvtx.mark('a'), error=True),
        Case('range without CUDA', lambda lib: lib.cuda.nvtx.range('a {}', 1).__enter__(), error=True)]),
    _sub('nn.utils.stateless', [Case('functional_call', _stateless_call)]),
    _sub('autograd.function'), _sub('autograd.functional'),
    _sub('autograd.grad_mode'),
    _sub('autograd.graph', [Case('saved_tensors_hooks', _saved_hooks), Case('save_on_cpu', _save_on_cpu),
                            Case('register_multi_grad_hook', _multi_grad_hook),
                            Case('get_gradient_edge', _gradient_edge)]),
    Call('', 'amp', [Case('names', lambda lib: _public(lib, 'amp', SUBMODULES['amp'])),
                     Case('is_autocast_available', lambda lib: [lib.amp.is_autocast_available('cpu'),
                                                                lib.amp.autocast is lib.autocast])]),
    Call('', 'autograd', [Case('names', lambda lib: _public(lib, 'autograd', SUBMODULES['autograd'])),
                          Case('grad', lambda lib: (lambda x: lib.autograd.grad((x ** 3).sum(), x))(
                              lib.tensor([1.0, 2.0], requires_grad=True)))]),
    Call('', 'linalg', [Case('names', lambda lib: _public(lib, 'linalg', SUBMODULES['linalg'])),
                        Case('calls', lambda lib: (lambda a: [lib.linalg.inv(a), lib.linalg.det(a), lib.linalg.norm(a)])(
                            lib.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=lib.float64)))],
         ),
    Call('', 'futures', [Case('names', lambda lib: _public(lib, 'futures', SUBMODULES['futures'])),
                         Case('complete, chain, collect', _futures),
                         Case('complete twice', lambda lib: (lambda f: [f.set_result(1), f.set_result(2)])(
                             lib.futures.Future()), error=True)]),
    _sub('distributed.nn.functional', [Case('before init', lambda lib: lib.distributed.nn.functional.all_gather(
        lib.ones(2)), error=True)]),
    _sub('distributed.nn', [Case('before init', lambda lib: lib.distributed.nn.all_reduce(lib.ones(2)), error=True)]),
    _sub('distributed.optim'),
    Call('distributed', 'TCPStore', [Case('one process, port 0', lambda lib: _store_ops(
        lib.distributed.TCPStore('127.0.0.1', 0, 1, True)))]),
    Call('distributed', 'HashStore', [Case('ops', lambda lib: _store_ops(lib.distributed.HashStore()))]),
    Call('distributed', 'DistStoreError', [Case('a timed-out get', _store_timeout, error=True)]),
    _sub('types', [Case('isinstance', lambda lib: [isinstance(v, t) for t in (lib.types.Number, lib.types.Device)
                                                   for v in (3, 2.5, True, 1j, 'cpu', lib.device('cpu'), None)])]),
    _sub('utils.checkpoint', [Case('device states', _device_states),
                              Case('set_device_states without a device module', lambda lib: (
                                  lib.utils.checkpoint.set_device_states([0], [lib.ones(1)], device_type='cpu')),
                                   error=True)]),
    Call('', 'cuda', [Case('no CUDA', lambda lib: [lib.cuda.is_available(), lib.cuda.device_count(),
                                                   lib.cuda.is_initialized(), lib.cuda.is_bf16_supported()]
                           if hasattr(lib.cuda, 'is_bf16_supported') else
                           [lib.cuda.is_available(), lib.cuda.device_count(), lib.cuda.is_initialized()]),
                      Case('_initialized flag', lambda lib: lib.cuda._initialized),
                      Case('current_device', lambda lib: lib.cuda.current_device(), error=True)]),
    # torchattacks' APGD, FAB and Square seed through torch.cuda.random (test_real_programs_adv)
    Call('cuda', 'random', [Case('seeding accepted', lambda lib: [
        lib.cuda.random.manual_seed(0), lib.cuda.random.manual_seed_all(1), lib.cuda.random.seed(),
        sorted(lib.cuda.random.__all__), lib.cuda.random.manual_seed is lib.cuda.manual_seed]),
        Case('get_rng_state', lambda lib: lib.cuda.random.get_rng_state(), error=True)]),
    Call('cuda', 'initial_seed', [Case('no CUDA', lambda lib: lib.cuda.initial_seed(), error=True)]),
]


# -- autograd names --------------------------------------------------------------------------------------
def _grad_state(lib, ctx):
    x = lib.ones(2, requires_grad=True)
    with ctx:
        y = x * 2
    return [y.requires_grad, lib.is_grad_enabled()]


def _same(lib, name):
    """``torch.autograd.X is torch.X`` and how ``X`` sets grad mode, as a context and as a decorator."""
    A = lib.autograd
    obj = getattr(A, name)
    make = {'no_grad': lambda: obj(), 'enable_grad': lambda: obj(), 'inference_mode': lambda: obj(),
            'set_grad_enabled': lambda: obj(False)}[name]
    inner = _grad_state(lib, make())
    with lib.no_grad():
        nested = _grad_state(lib, make())
    deco = make()(lambda: lib.is_grad_enabled())()
    return [obj is getattr(lib, name), inner, nested, deco]


def _variable(lib):
    V = lib.autograd.Variable
    x = V(lib.tensor([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    return [type(x).__name__, x.requires_grad, x.grad, isinstance(lib.ones(2), V), V(lib.ones(2)).requires_grad]


def _nested(lib):
    N = lib.autograd.NestedIOFunction
    return [issubclass(N, lib.autograd.Function), [hasattr(N, m) for m in ('forward_extended', 'backward_extended',
                                                                         'save_for_backward', 'mark_dirty',
                                                                         'mark_non_differentiable')]]


def _setting(name, *args):
    """An engine setting as a context manager, a function and a decorator, around backward passes."""
    def fn(lib):
        A = lib.autograd
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        with getattr(A, name)(*args):
            (x * 3).sum().backward()
        getattr(A, name)(*args)
        (x * x).sum().backward()
        getattr(A, name)(True)
        deco = getattr(A, name)(*args)(lambda: (x ** 3).sum().backward())
        deco()
        return [x.grad, type(getattr(A, name)(True)).__name__, getattr(A, name) is getattr(A.grad_mode, name)]
    return fn


AUTOGRAD = [
    Call('autograd', 'set_multithreading_enabled', [Case('context, function, decorator', _setting(
        'set_multithreading_enabled', False))]),
    Call('autograd', 'enforce_grad_layout_policy', [Case('context, function, decorator', _setting(
        'enforce_grad_layout_policy', False))]),
] + [
    Call('autograd', n, [Case('as PyTorch', lambda lib, n=n: _same(lib, n))])
    for n in ('no_grad', 'enable_grad', 'inference_mode', 'set_grad_enabled')] + [
    Call('autograd', 'Variable', [Case('a tensor', _variable)]),
    Call('autograd', 'variable', [Case('deprecated', lambda lib: lib.autograd.variable(lib.ones(2)), error=True)]),
    Call('autograd', 'NestedIOFunction', [Case('a Function', _nested),
                                          Case('forward_extended not implemented', lambda lib: lib.autograd.
                                               NestedIOFunction().forward_extended(lib.ones(1)), error=True)]),
]


def _no_running_stats(lib):
    """torch.func.replace_all_batch_norm_modules_: every BatchNorm of a model keeps no running statistics, in place."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.Sequential(lib.nn.BatchNorm1d(3)))
    same = lib.func.replace_all_batch_norm_modules_(model) is model
    return [same] + [[m.running_mean, m.running_var, m.num_batches_tracked, m.track_running_stats]
                     for m in (model[1], model[2][0])] + [model(lib.ones(4, 2))]


FUNC = [
    Call('func', 'replace_all_batch_norm_modules_', [Case('a model', _no_running_stats)]),
    Call('func', 'functionalize', [
        Case('same values, input mutated', lambda lib: (lambda x: [lib.func.functionalize(
            lambda v: v.add_(1).mul(2))(x), x])(lib.ones(3))),
        Case('bad remove', lambda lib: lib.func.functionalize(lambda v: v, remove='views'), error=True)]),
    Call('func', 'debug_unwrap', [Case('a plain tensor', lambda lib: lib.func.debug_unwrap(lib.arange(3.)))]),
]


def _serialization(lib):
    """torch.serialization's save and load: a round trip through memory, and its own names."""
    buf = io.BytesIO()
    lib.serialization.save({'w': lib.arange(6.).view(2, 3)}, buf)
    buf.seek(0)
    return [lib.serialization.load(buf), lib.serialization.DEFAULT_PROTOCOL,
            callable(lib.serialization.add_safe_globals), callable(lib.serialization.safe_globals),
            [getattr(getattr(a, '__origin__', a), '__name__', None) for a in lib.serialization.MAP_LOCATION.__args__]]


# the packages that `import torch` makes attributes of torch: what a program reaches through them
PACKAGES = [
    Call('', 'nn', [Case('a layer', lambda lib: [type(lib.nn.Linear(2, 3)).__name__,
                                                 isinstance(lib.nn.Linear(2, 3), lib.nn.Module),
                                                 lib.nn.functional.relu(lib.tensor([-1.0, 2.0]))])]),
    Call('', 'optim', [Case('optimizers', lambda lib: sorted(
        n for n in ('Adadelta', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'ASGD', 'LBFGS', 'NAdam', 'RAdam', 'RMSprop',
                    'Rprop', 'SGD', 'SparseAdam', 'lr_scheduler', 'swa_utils', 'Optimizer') if hasattr(lib.optim, n)))]),
    Call('', 'serialization', [Case('save and load', _serialization)]),
    Call('', 'utils', [Case('data', lambda lib: [len(lib.utils.data.TensorDataset(lib.zeros(3, 2))),
                                                 lib.utils.data.get_worker_info()])]),
    Call('', 'library', [Case('custom_op', lambda lib: _library(lib))]),
    Call('', 'ops', [Case('aten overloads', lambda lib: _aten_ops(lib.ops.aten)),
                     Case('an op PyTorch lacks', lambda lib: lib.ops.aten.no_such_op, error=True),
                     Case('load_library', lambda lib: lib.ops.load_library('/no/such/lib.so'), error=True)]),
]


_LIBRARY_SERIAL = iter(range(10 ** 6))


def _library(lib):
    """torch.library's custom_op with an autograd formula, reached through torch.ops too (a fresh namespace per
    call: each library's registrations last for the process)."""
    ns = f'registry_ns{next(_LIBRARY_SERIAL)}'
    L = importlib.import_module(f'{lib.__name__}.library')
    square = L.custom_op(f'{ns}::square', mutates_args=())(_square_kernel(lib))
    square.register_autograd(lambda ctx, g: g * 2 * ctx.saved_tensors[0],
                             setup_context=lambda ctx, inputs, output: ctx.save_for_backward(inputs[0]))
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    y = getattr(lib.ops, ns).square.default(x)
    y.sum().backward()
    return [y, x.grad, getattr(lib.ops, ns).square.overloads()]


def _square_kernel(lib):
    def square(x: lib.Tensor) -> lib.Tensor:
        return x * x
    return square


def _aten_ops(aten):
    """torch.ops.aten as PyTorch Geometric uses it: overloads as keys and called, a packet called."""
    x = aten.arange.start(1.0, 7.0)
    table = {aten.slice.Tensor: 'slice', aten.index.Tensor: 'index'}
    return [aten.mm.default(aten.view.default(x, [2, 3]), aten.t.default(aten.view.default(x, [2, 3]))),
            aten.slice.Tensor(x, 0, 1, 5, 2), aten.index.Tensor(x, [aten.arange.default(2)]), table[aten.slice.Tensor],
            repr(aten.mm.default), aten.mm.overloads(), aten.add(x, 1.5), aten._to_copy.default(x, dtype=x.dtype)]


def _profiled(lib):
    with lib.autograd.profiler.record_function('step'):
        y = lib.ones(2) + 1
    return [y, lib.profiler.ProfilerActivity.CPU.name]


def _traced(lib):
    import importlib
    fx = importlib.import_module(lib.__name__ + '.fx')
    gm = fx.symbolic_trace(lambda x: x * 2 + 1)
    return [gm(lib.tensor([1.0, 2.0])), sorted(n.op for n in gm.graph.nodes)]


def _close(lib):
    return lib.testing.assert_close(lib.tensor([1.0]), lib.tensor([1.0 + 1e-7]))


# the other packages of torch, each imported and used once
MORE = {
    'accelerator': lambda lib: [lib.accelerator.is_available(), lib.accelerator.device_count()],
    'backends': lambda lib: [lib.backends.cudnn.is_available(), lib.backends.mps.is_available(),
                             lib.backends.cudnn.enabled],
    'cpu': lambda lib: [lib.cpu.is_available(), lib.cpu.device_count(), lib.cpu.current_device()],
    'distributed': lambda lib: [lib.distributed.is_initialized()],
    'distributions': lambda lib: [lib.distributions.Normal(0.0, 1.0).log_prob(lib.tensor(0.5))],
    'fx': _traced,
    'jit': lambda lib: [lib.jit.is_scripting(), lib.jit.is_tracing()],
    'mps': lambda lib: [lib.mps.device_count()],
    'xpu': lambda lib: [lib.xpu.is_available(), lib.xpu.device_count(), lib.xpu.is_bf16_supported(),
                        lib.xpu.memory_allocated()],
    'multiprocessing': lambda lib: [sorted(lib.multiprocessing.get_all_sharing_strategies())],
    'onnx': lambda lib: [lib.onnx.is_in_onnx_export()],
    'profiler': _profiled,
    'special': lambda lib: [lib.special.erf(lib.tensor([0.5, -1.0])), lib.special.expit(lib.tensor([0.0]))],
    'testing': _close,
    'hub': lambda lib: [lib.hub.get_dir().endswith('hub')],
}


def _imported(name, fn):
    """``fn`` after importing lib.<name> (most packages load only when imported, in both libraries)."""
    def call(lib):
        importlib.import_module(f'{lib.__name__}.{name}')
        return fn(lib)
    return call


PACKAGES += [Call('', name, [Case('use', _imported(name, fn))]) for name, fn in MORE.items()]
PACKAGES[-len(MORE) + list(MORE).index('testing')].cases.append(
    Case('mismatch', _imported('testing', lambda lib: lib.testing.assert_close(lib.tensor([1.0]), lib.tensor([1.1]))),
         error=True))
PACKAGES.append(Call('autograd', 'profiler', [Case('record_function', _imported('autograd.profiler', _profiled))]))


# -- Tensor subclasses and __torch_function__ (tests/test_torch_function.py has the extending notes' examples) ----
def _sub(lib):
    """A Tensor subclass instance of lib (ops on it keep the class)."""
    return lib.tensor([1.0, -2.0]).as_subclass(type('Sub', (lib.Tensor,), {}))


class _Like:
    """A Tensor-like that is not a Tensor: handles every function by naming it."""
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ['handled', func.__name__, [t.__name__ for t in types]]


def _overrides(lib):
    importlib.import_module(f'{lib.__name__}.overrides')
    return lib.overrides


def _handled(lib):
    o = _overrides(lib)

    def public(x):
        return o.handle_torch_function(public, (x,), x) if o.has_torch_function((x,)) else 'plain'
    return [public(1), public(_Like()), public(lib.ones(1))]


def _wrapped(lib):
    @_overrides(lib).wrap_torch_function(lambda a: (a,))
    def f(a):
        return 'plain'
    return [f(1), f(_Like())]


def _mode_log(lib):
    """The names a TorchFunctionMode sees for plain-tensor methods, operators, functions and factories, and the
    results (a nested mode's own calls reach the outer one)."""
    o = _overrides(lib)

    class Log(o.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    class Double(o.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            return out * 2 if func.__name__ == 'mul' else out

    x = lib.ones(2)
    with Log() as log:
        out = [x + 1, (x * 3).sum(), lib.relu(x), lib.nn.functional.gelu(x), lib.zeros(2), lib.cat([x, x])]
        with Double():
            out.append(lib.mul(x, 3))
    return [log.names, out, x + 1, o._get_current_function_mode() is None]


def _sobol(lib):
    """Plain and scrambled Sobol points, their state after fast_forward/reset, float64 draws, the 1111th dimension."""
    q = lib.quasirandom
    plain = q.SobolEngine(5)
    scr = q.SobolEngine(7, scramble=True, seed=123)
    big = q.SobolEngine(1111, scramble=True, seed=0)
    return [plain.draw(3), plain.draw(4), plain.fast_forward(5).draw(2), plain.reset().draw(2, dtype=lib.float64),
            repr(plain), scr.draw(5), scr.draw(3, dtype=lib.float64), scr.shift, scr.sobolstate, repr(scr),
            big.draw(40)[:, -20:], q.SobolEngine(2).draw_base2(3)]


TORCH_FUNCTION = [
    Call('quasirandom', 'SobolEngine', [
        Case('draws', _sobol, ),
        Case('global generator', lambda lib: (lib.manual_seed(5),
                                              lib.quasirandom.SobolEngine(3, scramble=True).draw(4))[1]),
        Case('dimension 0', lambda lib: lib.quasirandom.SobolEngine(0), error=True),
        Case('unbalanced draw_base2', lambda lib: lib.quasirandom.SobolEngine(2).fast_forward(1).draw_base2(2),
             error=True)], exact=True),
    Call('overrides', 'TorchFunctionMode', [Case('a logging mode', _mode_log)]),
    Call('overrides', 'BaseTorchFunctionMode', [Case('runs calls', lambda lib: (lambda o: (lambda m: [
        lib.add(lib.ones(2), 1), m.__exit__(None, None, None)])(o.BaseTorchFunctionMode().__enter__()))(
            _overrides(lib)))]),
    Call('Tensor', 'as_subclass', [Case('ops keep the class', lambda lib: [type(_sub(lib) * 2).__name__, _sub(lib) * 2,
                                                                          repr(_sub(lib))]),
                                   Case('not a Tensor class', lambda lib: lib.ones(1).as_subclass(int), error=True)]),
    Call('Tensor', '__torch_function__', [Case('a Tensor-like', lambda lib: [lib.add(_Like(), 1), lib.mean(_Like()),
                                                                          lib.nn.functional.relu(_Like())])]),
    Call('overrides', 'has_torch_function', [Case('arguments', lambda lib: [
        _overrides(lib).has_torch_function(a) for a in ((lib.ones(1),), (_sub(lib),), (_Like(), 1), ())])]),
    Call('overrides', 'handle_torch_function', [Case('a Tensor-like', _handled)]),
    Call('overrides', 'wrap_torch_function', [Case('a Tensor-like', _wrapped)]),
    Call('overrides', 'is_tensor_like', [Case('objects', lambda lib: [
        _overrides(lib).is_tensor_like(a) for a in (lib.ones(1), _sub(lib), _Like(), 1.0, lib.Tensor)])]),
    Call('overrides', 'resolve_name', [Case('functions', lambda lib: [
        _overrides(lib).resolve_name(f) for f in (lib.add, lib.Tensor.add, lib.nn.functional.relu)])]),
    Call('overrides', 'is_tensor_method_or_property', [Case('functions', lambda lib: [
        _overrides(lib).is_tensor_method_or_property(f) for f in (lib.add, lib.Tensor.add, lib.Tensor.T.__get__)])]),
    Call('overrides', 'get_overridable_functions', [Case('members', lambda lib: [
        lib.add in _overrides(lib).get_overridable_functions()[lib],
        lib.Tensor.sum in _overrides(lib).get_overridable_functions()[lib.Tensor]])]),
    Call('overrides', 'get_testing_overrides', [Case('dummies', lambda lib: [
        _overrides(lib).get_testing_overrides()[f](lib.ones(1)) for f in (lib.exp, lib.Tensor.exp)])]),
    Call('overrides', 'get_ignored_functions', [Case('members', lambda lib: [
        f in _overrides(lib).get_ignored_functions() for f in (lib.Tensor.as_subclass, lib.add)])]),
]

ENTRIES = ([_legacy(n) for n in LEGACY] + [SIZE] + CONSTS + ALIASES + FLOAT8 + FORMATS + LAYOUTS + SPARSE + [DEVICE] + DEFAULT_DEVICE + PRECISION +
           AUTOCAST + SAVE_LOAD + [PRINTOPTS] + SEEDING + VERSION + [RETURN_TYPES] + TENSOR + TENSOR_NAMES + FUNCTIONS +
           SYM + STORAGES + SUBS + AUTOGRAD + FUNC + PACKAGES + TORCH_FUNCTION)
# Lightning's names are checked as cases of their package's entry (torch.PyTorchFileReader under serialization...);
# their error cases run in tests/test_real_programs_r.py (test_lightning_errors)
_HOSTS = {'PyTorchFileReader': 'serialization', 'ScriptModule': 'jit', '_C._TensorMeta': 'jit',
          '_C._log_api_usage_once': 'utils', '_C._nn._parse_to': 'nn', 'distributed.constants': 'distributed',
          'utils.flop_counter': 'utils', '_dynamo.OptimizedModule': 'nn', 'utils._pytree._get_node_type': 'utils',
          'profiler.kineto_available': 'profiler', 'profiler.profile.add_metadata': 'profiler',
          'autograd._profiler_enabled': 'autograd', 'autograd.profiler.emit_nvtx': 'autograd',
          'cuda.get_rng_state_all': 'cuda'}
_BY_ID = {e.id: e for e in ENTRIES}
for _entry in LIGHTNING:
    _BY_ID[_HOSTS[_entry.id]].cases += [Case(f'{_entry.id}: {c.desc}', c.fn) for c in _entry.cases if not c.error]

# -- the torch names the tools bolted onto models read (captum, torchviz, FlopCounterMode; test_real_programs_t) ------
def _counted(lib):
    """A linear layer's FLOPs forward and backward, per module and op."""
    from importlib import import_module
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Conv1d(1, 2, 3))
    with import_module(f'{lib.__name__}.utils.flop_counter').FlopCounterMode(display=False) as fc:
        model(lib.randn(2, 1, 3)).sum().backward()
    return [fc.get_total_flops(), {m: {str(o): n for o, n in c.items()} for m, c in fc.get_flop_counts().items()}]


def _tracked(lib):
    """The modules a ModuleTracker lists while a submodule runs."""
    from importlib import import_module
    tracker = import_module(f'{lib.__name__}.utils.module_tracker').ModuleTracker()
    seen = []
    model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    model[1].register_forward_hook(lambda m, i, o: seen.append(sorted(tracker.parents)))
    with tracker:
        model(lib.ones(1, 2))
    return seen + [sorted(tracker.parents), tracker.is_bw]


TOOLS = [
    Call('', 'Future', [Case('futures are ones', lambda lib: [
        isinstance(lib.futures.Future(), lib.Future), isinstance(lib.ones(1), lib.Future),
        issubclass(lib.futures.Future, lib.Future)])]),
    Call('utils.flop_counter', 'FlopCounterMode', [Case('a layer forward and backward', _counted)]),
    Call('utils', 'module_tracker', [_names('utils.module_tracker'), Case('parents', _tracked)]),
    Call('', 'ao', [_names('ao.quantization'), Case('abstract modules', lambda lib: [
        issubclass(getattr(importlib.import_module(f'{lib.__name__}.ao.quantization'), n), lib.nn.Module) and
        sorted(getattr(importlib.import_module(f'{lib.__name__}.ao.quantization'), n).__abstractmethods__)
        for n in ('ObserverBase', 'FakeQuantizeBase')])]),
    Call('profiler', 'profiler', [_names('profiler.profiler'), Case('Lightning\'s default schedule', lambda lib: [
        lib.profiler.profiler._default_schedule_fn(3).name, lib.profiler.profiler.profile is lib.profiler.profile])]),
]
ENTRIES += TOOLS


def _tensor_type(lib):
    """TorchScript's type of a tensor (open_clip annotates with it): its printing and the fields it records."""
    t, c = lib.TensorType.get(), lib.TensorType.create_from_tensor(lib.ones(2, 3).t())
    return [str(t), t.kind(), t.annotation_str, t == lib.TensorType.get(), isinstance(t, lib.Type), t.dim(),
            str(c.dtype()), c.sizes(), c.strides(), c.requires_grad()]


JIT_TYPES = [
    Call('', 'TensorType', [Case('get and create_from_tensor', _tensor_type),
                            Case('no constructor', lambda lib: lib.TensorType(), error=True)]),
    Call('', 'Type', [Case('the base of TensorType', lambda lib: [issubclass(lib.TensorType, lib.Type),
                                                                   lib._C.Type is lib.Type])]),
    Call('', 'DeviceObjType', [Case('get', lambda lib: [str(lib.DeviceObjType.get()), lib.DeviceObjType.get().kind(),
                                                        isinstance(lib.DeviceObjType.get(), lib.Type)]),
                               Case('no constructor', lambda lib: lib.DeviceObjType(), error=True)]),
    Call('', 'StreamObjType', [Case('get', lambda lib: [str(lib.StreamObjType.get()), lib.StreamObjType.get().kind(),
                                                        lib.StreamObjType.get().annotation_str]),
                               Case('no constructor', lambda lib: lib.StreamObjType(), error=True)]),
    Call('', 'Value', [Case('torch._C.Value', lambda lib: [lib._C.Value is lib.Value, lib.Value.__name__]),
                       Case('no constructor', lambda lib: lib.Value(), error=True)]),
]
ENTRIES += JIT_TYPES
