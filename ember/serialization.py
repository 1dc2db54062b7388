"""``save``/``load``. ``save`` writes PyTorch's own checkpoint format (the zip ``torch.save`` writes:
data.pkl, version records, raw storages), so PyTorch loads ember's files with ``weights_only=True``.
``load`` never runs code from a file: it reads PyTorch zip files through an unpickler that admits only
tensors, storages, containers and plain values, the data-only format older embers wrote (a JSON
description and one ``.npy`` per storage), and PyTorch's legacy pre-1.6 format (``_legacyload``)."""
import base64
import collections
import contextlib
import copy
import hashlib
import io
import json
import math
import operator
import os
import pickle
import pickletools
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable

import numpy as np

from . import _bf16, _dtype, _fullpickle, _savefile, _torchzip
from ._fullpickle import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals  # noqa: F401
from .tensor import Size, Tensor, device, user_state

__all__ = ['save', 'load', 'UnpicklingError', 'DEFAULT_PROTOCOL']

DEFAULT_PROTOCOL = 2
# the type of load's map_location, for annotations (pyro's param_store imports it)
MAP_LOCATION = Callable[[Tensor, str], Tensor] | device | str | dict[str, str] | None
_FORMAT, _VERSION = 'ember', 1
_PREFIX = 'archive/'
_HEADER = 'ember.json'
_MAX_DEPTH = 100
_CHUNK = 1 << 24
_EPOCH = (1980, 1, 1, 0, 0, 0)
_STORAGE_DTYPES = {np.dtype(n).name: np.dtype(n) for n in (
    'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
    'float16', 'float32', 'float64', 'complex64', 'complex128')}
_NONFINITE = {'nan': math.nan, 'inf': math.inf, '-inf': -math.inf}


class UnpicklingError(pickle.UnpicklingError, RuntimeError):
    """``load`` refused a file: it is malformed, or holds something other than tensors, containers and
    plain values (ember never runs code from a file). A traceback names it as PyTorch's refusals are named,
    ``_pickle.UnpicklingError``."""
    __module__ = '_pickle'


class _CorruptFile(UnpicklingError):
    """A file PyTorch's own reader refuses with a RuntimeError (a legacy file's bad magic number, a file that
    is not a zip archive): printed under that name, as PyTorch's is, and still an UnpicklingError."""
    __module__, __qualname__ = 'builtins', 'RuntimeError'


_CorruptFile.__name__ = 'RuntimeError'


_MINIZ = ('PytorchStreamReader failed reading zip archive: {}. This is an internal miniz error. If you are seeing '
          'this error, there is a high likelihood that your checkpoint file is corrupted. This can happen if the '
          'checkpoint was not saved properly, was transferred incorrectly, or the file was modified after saving.')


def _zip_refusal(fh, start, e):
    """The error for a file zipfile cannot open: PyTorch's reader's for one shorter than an end record ('not a
    ZIP archive') or without one ('failed finding central directory'), ember's own for other damage."""
    if isinstance(e, zipfile.BadZipFile) and str(e) == 'File is not a zip file':
        size = fh.seek(0, 2) - start
        fh.seek(start)
        return _CorruptFile(_MINIZ.format('not a ZIP archive' if size < 22 else 'failed finding central directory'))
    return UnpicklingError(f'malformed zip archive: {e}')


def _require(cond, msg):
    if not cond:
        raise UnpicklingError(msg)


def _parameter_type():
    """``ember.nn.Parameter`` when that module exists (imported lazily: nn imports this package)."""
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


# ---------------------------------------------------------------------------------------------- save
def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write ``obj`` (tensors, state dicts, nested containers of plain values) to a path or a binary file
    object. A path is written atomically, keeping the file's links and owner (see ``_savefile``). data.pkl is
    written with ``pickle_protocol``; a ``pickle_module`` other than ``pickle`` (dill) pickles it with that
    module's Pickler, as ``torch.save`` does. ``_use_new_zipfile_serialization=False`` writes PyTorch's legacy
    (pre-1.6) format instead of the zip archive."""
    pickle_protocol = _checked_protocol(pickle_protocol)
    archive = _write_archive if _use_new_zipfile_serialization else _legacy_writer(pickle_protocol)
    custom = _custom_pickler(pickle_module)
    if custom is not None:
        return _save_whole(obj, f, pickle_protocol, archive, custom)
    try:
        header, storages = _Encoder().run(obj)
    except TypeError as exc:
        if 'can be saved, because' not in str(exc):  # only objects of other types are pickled whole
            raise
        return _save_whole(obj, f, pickle_protocol, archive)
    pkl, raw = _TorchTree(header, storages).pickle(pickle_protocol, _pid_tail(archive))
    _write_to(f, _archive_call(archive, f, pkl, raw))


def _legacy_writer(protocol):
    """The legacy format's writer ``(fh, pkl, raw)`` at ``protocol`` (its header pickles use it too)."""
    from . import _legacysave
    return lambda fh, pkl, raw: _legacysave.write(fh, pkl, raw, protocol)


def _pid_tail(archive):
    """What follows ('storage', type, key, location, numel) in a persistent id: the legacy format adds a
    storage view (None)."""
    return () if archive is _write_archive else (None,)


def _checked_protocol(protocol):
    """``pickle_protocol`` as CPython's Pickler checks it (None: pickle's default; negative: the highest)."""
    if protocol is None:
        return pickle.DEFAULT_PROTOCOL
    protocol = operator.index(protocol)
    if protocol > pickle.HIGHEST_PROTOCOL:
        raise ValueError(f'pickle protocol must be <= {pickle.HIGHEST_PROTOCOL}')
    return pickle.HIGHEST_PROTOCOL if protocol < 0 else protocol


def _write_to(f, write):
    """Run ``write(fh)`` on the file ``f`` names (atomically) or on the file object ``f``."""
    if isinstance(f, (str, os.PathLike)):
        _savefile.write_path(f, write)
    elif hasattr(f, 'write'):
        write(f)
    else:
        raise AttributeError(f'save: f must be a path (str or os.PathLike) or a writable binary file object, '
                             f'got {type(f).__name__}')


def _save_whole(obj, f, pickle_protocol, archive, pickler=None):
    """``torch.save(model)``: an object that is not plain data is pickled whole, as PyTorch does (loading
    it needs ``weights_only=False``); one that cannot be pickled raises the error PyTorch's pickler raises."""
    pkl, raw = (pickler or _WholePickler).run(obj, pickle_protocol, _pid_tail(archive))
    _write_to(f, _archive_call(archive, f, pkl, raw))


def _archive_call(archive, f, pkl, raw):
    """``write(fh)`` for ``_write_to``: the zip archive's records under PyTorch's folder name (a path's file name
    up to its last '.', 'archive' for a file object: the recipe's size of 'temp.p' counts 'temp/' names)."""
    if archive is not _write_archive:
        return lambda fh: archive(fh, pkl, raw)
    prefix = _PREFIX
    if isinstance(f, (str, os.PathLike)):
        base = os.path.basename(os.fsdecode(f))
        prefix = (base[:base.rfind('.')] if '.' in base else base) + '/'
    return lambda fh: archive(fh, pkl, raw, prefix)


def _zip_info(name):
    """A fixed-date, uncompressed entry, so the same object always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    return info


def _archive_records(pkl, raw, prefix):
    """(name, chunks) of each record of torch.save's archive, in its order."""
    yield prefix + 'data.pkl', [pkl]
    for name, text in (('.format_version', '1'), ('.storage_alignment', '64'), ('byteorder', sys.byteorder)):
        yield prefix + name, [text.encode()]
    for key, arr in enumerate(raw):
        flat = arr.reshape(-1).view(np.uint8)
        yield f'{prefix}data/{key}', (flat[start:start + _CHUNK].data for start in range(0, flat.size, _CHUNK))
    yield prefix + 'version', [b'3\n']
    digest = hashlib.sha1(pkl).hexdigest()
    yield prefix + '.data/serialization_id', [str(int(digest, 16))[:40].zfill(40).encode()]


def _write_archive(fh, pkl, raw, prefix=_PREFIX):
    """torch.save's zip of the pickle ``pkl`` and the storages ``raw`` its persistent ids name (PyTorch 2.13
    loads it with ``weights_only=True``): data.pkl, the version records, one raw ``data/<key>`` entry per
    storage, in PyTorch's byte layout (``_torchzip``) below 4 GiB, else through zipfile with zip64 records."""
    if sum(a.nbytes for a in raw) + len(pkl) < (1 << 31):
        writer = _torchzip.Writer(fh)
        for name, chunks in _archive_records(pkl, raw, prefix):
            writer.record(name, chunks)
        writer.close()
        return
    with zipfile.ZipFile(fh, 'w', zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, chunks in _archive_records(pkl, raw, prefix):
            if name.startswith(f'{prefix}data/'):
                with zf.open(_zip_info(name), 'w', force_zip64=True) as out:
                    for chunk in chunks:
                        out.write(chunk)
            else:
                zf.writestr(_zip_info(name), b''.join(chunks))


class _Global:
    """Pickles as a reference to ``module.name`` (a torch global) without importing it. One object per name, so
    that a pickle names it once and then refers to its memo entry, as CPython's pickler does a class."""
    _interned = {}

    def __new__(cls, module, name):
        obj = cls._interned.get((module, name))
        if obj is None:
            obj = cls._interned[module, name] = super().__new__(cls)
            obj.module, obj.name = module, name
        return obj

    def __call__(self, *args):
        raise TypeError(f'{self.module}.{self.name} is only written to a pickle, never called')

    def __repr__(self):     # as protocol 0 writes a storage's class into its persistent id
        return f"<class '{self.module}.{self.name}'>"


class _Reduce:
    """Pickles as ``func(*args)``, ``func`` a ``_Global``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _StorageRef:
    """A storage in data.pkl: written as PyTorch's persistent id ('storage', type, key, 'cpu', numel); the shell
    dtypes (uint16/32/64), which have no typed storage class, as an UntypedStorage of their bytes."""

    def __init__(self, key, arr, bf16=False):
        if not bf16 and arr.dtype.name in _UNTYPED:
            self.pid = ('storage', _Global('torch.storage', 'UntypedStorage'), str(key), 'cpu', int(arr.nbytes))
            return
        name = 'BFloat16Storage' if bf16 else _STORAGE_NAMES[arr.dtype.name]
        self.pid = ('storage', _Global('torch', name), str(key), 'cpu', int(arr.size))


def _save_torch_global(pickler, obj):
    """A ``_Global`` as the GLOBAL (STACK_GLOBAL from protocol 4) opcode CPython's pickler writes for a class."""
    if pickler.proto >= 4:
        pickler.save(obj.module)
        pickler.save(obj.name)
        pickler.write(pickle.STACK_GLOBAL)
    else:
        pickler.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('utf-8'))
    pickler.memoize(obj)


class _TorchPickler(pickle._Pickler):
    """The pickler of data.pkl (protocol 2 unless ``save`` is given another); ``_Global`` objects become GLOBAL
    opcodes."""
    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[_Global] = _save_torch_global
    pid_tail = ()

    def persistent_id(self, obj):
        """A storage's id, a new tuple at each use (of memoized parts) as PyTorch's persistent_id returns."""
        return (*obj.pid, *self.pid_tail) if type(obj) is _StorageRef else None


class _Discard:
    """A file that forgets what is written to it (the first of ``_WholePickler``'s two passes)."""

    def write(self, data):
        return len(data)


class _WholeMixin:
    """A whole object (a model, a checkpoint dict holding one) pickled as ``torch.save`` pickles it: each
    tensor a ``_rebuild_tensor_v2`` of a raw ``data/<key>`` storage, not an inline NumPy pickle, so PyTorch
    loads its own tensors (and dtypes, Sizes, devices) from ember's file (ultralytics' last.pt, a dict
    around a half-precision DetectionModel) and the file is as small as PyTorch's. A first pass finds the tensors, so that views
    of one memory share one storage, as the state-dict path (``_Encoder``) groups them."""

    def __init__(self, fh, protocol, encoder, tree=None):
        super().__init__(fh, protocol=protocol)
        self.encoder, self.tree, self.param, self.failed = encoder, tree, _parameter_type(), None

    @classmethod
    def run(cls, obj, protocol, pid_tail=()):
        """(data.pkl's bytes, the storages it names) for ``obj``; ``pid_tail`` ends each persistent id."""
        enc = _Encoder()
        first = cls(_Discard(), protocol, enc)
        try:
            first.dump(obj)
        except Exception as exc:
            native = first.native_error(exc)
            if native is exc:
                raise
            raise native from None
        storages = [g.storage(i) for i, g in enumerate(enc._groups.values())]
        tree = _TorchTree({'tensors': enc.records, 'root': None}, storages)
        buf = io.BytesIO()
        pickler = cls(buf, protocol, enc, tree)
        pickler.pid_tail = pid_tail
        pickler.dump(obj)
        return buf.getvalue(), tree.raw

    def save(self, obj, save_persistent_id=True):
        as_torch = _TORCH_VALUES.get(type(obj))
        try:
            super().save(obj if as_torch is None else as_torch(obj), save_persistent_id)
        except Exception:
            if self.failed is None:   # the innermost object whose pickling failed
                self.failed = (obj,)
            raise

    def native_error(self, exc):
        """The error to raise for ``exc``: a ``pickle_module``'s Pickler's own (PyTorch pickles with it too)."""
        return exc

    persistent_id = _TorchPickler.persistent_id

    def _fresh(self, obj):
        """The rebuild call of a tensor the first pass never met: its owner's ``__getstate__``/``__reduce__`` made
        it anew in this pass (avalanche's checkpoints hold such objects); it gets a storage of its own."""
        enc = _Encoder()
        rec = enc._tensor_record(obj)
        for group in enc._groups.values():
            self.tree.storages.append(group.storage(len(self.tree.storages)))
        return self.tree.tensor(rec)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor) and obj.is_quantized:
            return self._qtensor(obj)
        foreign = isinstance(obj, Tensor) and _foreign_subclass(type(obj), self.param)
        if type(obj) is not Tensor and (self.param is None or type(obj) is not self.param) and not foreign:
            own = getattr(super(), 'reducer_override', None)   # a pickle_module's Pickler may have one
            return NotImplemented if own is None else own(obj)
        state = user_state(obj) or None
        if self.tree is None:   # first pass: note the tensor; what it writes is discarded
            self.encoder._ref(obj, self.encoder._tensor_record)
            return int, (), state
        i = self.encoder._index.get(id(obj))
        rebuild = self._fresh(obj) if i is None else self.tree.ref({'$': 'ref', 'id': i})
        if foreign:     # a program's subclass, named by its class as PyTorch names it
            return _REBUILD_FROM_TYPE, (_REBUILD_TENSOR, type(obj), rebuild.args, state or {})
        if state is None:
            return rebuild.__reduce__()
        if type(obj) is Tensor:
            return _REBUILD_FROM_TYPE, (_REBUILD_TENSOR, _Global('torch', 'Tensor'), rebuild.args, state)
        tensor, requires_grad, hooks = rebuild.args
        return _REBUILD_PARAMETER_STATE, (tensor, requires_grad, hooks, state)




    def _qtensor(self, q):
        """A quantized tensor as PyTorch pickles it: ``_rebuild_qtensor`` of a QInt8/QUInt8/QInt32 storage of its
        integers, with (qscheme, scale, zero_point) or (qscheme, scales, zero_points, axis)."""
        if self.tree is None:       # first pass: its storage is written in the second
            return int, ()
        from ._quantized import RANGES, per_tensor_affine
        ints = np.ascontiguousarray(q._int)
        ref = self.tree.storage(ints.reshape(-1))
        ref.pid = ('storage', _Global('torch', RANGES[q._qdtype][3] + 'Storage')) + ref.pid[2:]
        scheme = _Global('torch', q._qscheme.name)
        if q._qscheme is per_tensor_affine:
            params = (scheme, q._scale, q._zp)
        else:
            params = (scheme, Tensor._make(q._scale), Tensor._make(q._zp), q._axis)
        stride = tuple(math.prod(ints.shape[i + 1:]) for i in range(ints.ndim))
        return _REBUILD_QTENSOR, (ref, 0, tuple(ints.shape), stride, params, False, collections.OrderedDict())


class _WholePickler(_WholeMixin, _TorchPickler):
    """``_WholeMixin`` on ember's own pickler (``save`` without a ``pickle_module``)."""

    def native_error(self, exc):
        """The error CPython's C pickler (torch.save's) raises for the innermost object that failed: its types
        and messages differ from pickle._Pickler's (a local lambda: AttributeError "Can't pickle local
        object", where the pure-Python pickler raises PicklingError)."""
        if self.failed is None:
            return exc
        try:
            pickle.dumps(self.failed[0], self.proto)
        except Exception as native:   # noqa: BLE001 - the C pickler's error is the one PyTorch raises
            return native
        return exc


_CUSTOM_PICKLERS = {}


def _custom_pickler(module):
    """``_WholeMixin`` on ``module.Pickler`` (``torch.save(obj, f, pickle_module=dill)``), or None for ``pickle``.
    The Pickler must be pure Python (derive ``pickle._Pickler``, as dill's does): CPython's C pickler writes a
    global only after importing it, and ember writes torch's globals without importing torch."""
    if module is None or module is pickle:
        return None
    base = getattr(module, 'Pickler', None)
    if not (isinstance(base, type) and issubclass(base, pickle._Pickler)):
        raise TypeError(f'save: pickle_module {getattr(module, "__name__", module)!r} has Pickler {base!r}, which '
                        'is not a subclass of pickle._Pickler (the pure-Python pickler, as dill\'s is); ember writes '
                        "torch's globals (torch.FloatStorage...) without importing torch, which CPython's C pickler "
                        'cannot. Pass a module whose Pickler derives from pickle._Pickler, or leave pickle_module out')
    cls = _CUSTOM_PICKLERS.get(base)
    if cls is None:
        dispatch = copy.copy(base.dispatch)   # keeps the dict's own type (dill's catches metaclasses)
        dispatch[_Global] = _save_torch_global
        cls = _CUSTOM_PICKLERS[base] = type(f'_Whole{base.__name__}', (_WholeMixin, base), {'dispatch': dispatch})
    return cls


_REBUILD_TENSOR = _Global('torch._utils', '_rebuild_tensor_v2')
_TORCH_VALUES = {   # ember's dtype, Size and device named as PyTorch's in a whole-object pickle
    _dtype.dtype: lambda o: _Global('torch', o.name),
    _dtype._Quantized: lambda o: _Global('torch', o.name),
    Size: lambda o: _Reduce(_Global('torch', 'Size'), (tuple(int(s) for s in o),)),
    device: lambda o: _Reduce(_Global('torch', 'device'), (str(o),)),
}
_REBUILD_FROM_TYPE = _Global('torch._tensor', '_rebuild_from_type_v2')
_REBUILD_PARAMETER_STATE = _Global('torch._utils', '_rebuild_parameter_with_state')
_REBUILD_TENSOR_V3 = _Global('torch._utils', '_rebuild_tensor_v3')   # (..., dtype): a tensor of an UntypedStorage
_UNTYPED = frozenset(('uint16', 'uint32', 'uint64'))
_REBUILD_PARAMETER = _Global('torch._utils', '_rebuild_parameter')
_REBUILD_QTENSOR = _Global('torch._utils', '_rebuild_qtensor')
_STORAGE_NAMES = {'float32': 'FloatStorage', 'float64': 'DoubleStorage', 'float16': 'HalfStorage',
                  'int64': 'LongStorage', 'int32': 'IntStorage', 'int16': 'ShortStorage', 'int8': 'CharStorage',
                  'uint8': 'ByteStorage', 'bool': 'BoolStorage', 'complex64': 'ComplexFloatStorage',
                  'complex128': 'ComplexDoubleStorage'}


class _TorchTree:
    """Turns the encoder's description (the JSON tree ember's own format stores) into the object tree
    torch.save pickles: tensors as ``_rebuild_tensor_v2`` of storages, Parameters as
    ``_rebuild_parameter``, Size/dtype/device as torch globals; NumPy values pickle as NumPy pickles them."""

    def __init__(self, header, storages):
        self.storages, self.records = list(storages), header['tensors']
        self.root, self.refs, self.by_storage, self.raw = header['root'], {}, {}, []

    def pickle(self, protocol, pid_tail=()):
        buf = io.BytesIO()
        pickler = _TorchPickler(buf, protocol=protocol)
        pickler.pid_tail = pid_tail
        pickler.dump(self.value(self.root))
        return buf.getvalue(), self.raw

    def value(self, v):
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [self.value(x) for x in v]
        return _TREE_DECODERS[v['$']](self, v)

    def items(self, v):
        return [(self.value(k), self.value(x)) for k, x in v['items']]

    def odict(self, v):
        out = collections.OrderedDict(self.items(v))
        if 'metadata' in v:
            out._metadata = self.value(v['metadata'])
        return out

    def ref(self, v):
        i = v['id']
        if i not in self.refs:
            self.refs[i] = self.tensor(self.records[i])
        return self.refs[i]

    def storage(self, flat, bf16=False):
        """A new ``data/<key>`` entry holding the 1-D array ``flat`` (bf16 bit patterns with ``bf16``); an
        untyped storage's as bytes, so that each entry's size is the element count its persistent id gives."""
        ref = _StorageRef(len(self.raw), flat, bf16)
        self.raw.append(flat.view(np.uint8) if not bf16 and flat.dtype.name in _UNTYPED else flat)
        return ref

    def tensor(self, rec):
        """A tensor record as its rebuild call (a storage of its own when its layout has no PyTorch form)."""
        bf16 = rec['dtype'] == 'bfloat16'
        dtype = np.dtype(np.uint16) if bf16 else _STORAGE_DTYPES[rec['dtype']]
        shape, stride, offset = tuple(rec['shape']), tuple(rec['stride']), rec['offset']
        sid = rec['storage']
        if rec['type'] == 'ndarray':
            base = np.zeros(0, dtype) if sid is None else self.storages[sid]
            return _strided(base, offset, shape, stride, 'tensor') if 0 not in shape else np.zeros(shape, dtype)
        if sid is None or any(s < 0 for s in stride):
            arr = np.zeros(shape, dtype) if sid is None else np.ascontiguousarray(
                _strided(self.storages[sid], offset, shape, stride, 'tensor'))
            ref = self.storage(arr.reshape(-1), bf16)
            offset = 0
            stride = tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))
        else:
            ref = self.by_storage.get(sid) or self.by_storage.setdefault(sid, self.storage(self.storages[sid], bf16))
        requires_grad = bool(rec.get('requires_grad', False))
        parameter = rec['type'] == 'parameter'   # a Parameter pickles its .data, which requires no grad
        args = (ref, offset, shape, stride, requires_grad and not parameter, collections.OrderedDict())
        t = _Reduce(_REBUILD_TENSOR_V3, args + (_Global('torch', rec['dtype']),)) if rec['dtype'] in _UNTYPED else \
            _Reduce(_REBUILD_TENSOR, args)
        if parameter:
            return _Reduce(_REBUILD_PARAMETER, (t, requires_grad, collections.OrderedDict()))
        return t


_TREE_DECODERS = {
    'tuple': lambda t, v: tuple(t.value(x) for x in v['v']),
    'set': lambda t, v: {t.value(x) for x in v['v']},
    'frozenset': lambda t, v: frozenset(t.value(x) for x in v['v']),
    'dict': lambda t, v: dict(t.items(v)),
    'odict': _TorchTree.odict,
    'ref': _TorchTree.ref,
    'float': lambda t, v: _NONFINITE[v['v']],
    'complex': lambda t, v: complex(*(t.value(x) for x in v['v'])),
    'bytes': lambda t, v: base64.b64decode(v['v']),
    'dtype': lambda t, v: _Global('torch', v['v']),
    'size': lambda t, v: _Reduce(_Global('torch', 'Size'), (tuple(v['v']),)),
    'device': lambda t, v: _Reduce(_Global('torch', 'device'), (v['v'],)),
    'slice': lambda t, v: slice(*(t.value(x) for x in v['v'])),
    'npscalar': lambda t, v: _STORAGE_DTYPES[v['dtype']].type(t.value(v['v'])),
}


def _ptr(arr):
    return arr.__array_interface__['data'][0]


def _extent(arr):
    """Byte addresses [lo, hi) spanned by a non-empty array."""
    lo = hi = _ptr(arr)
    for n, s in zip(arr.shape, arr.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + arr.itemsize


def _root(arr):
    """The contiguous array owning ``arr``'s memory, when arr is an (offset, strides) view into it."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    if any(s % arr.itemsize for s in arr.strides):
        return None
    lo, hi = _extent(arr)
    base = _ptr(root)
    return root if base <= lo and hi <= base + root.nbytes else None


class _Group:
    """Arrays viewing one memory block with one dtype: saved as one storage covering all of them."""

    def __init__(self, root, dtype):
        self.root, self.dtype, self.base = root, dtype, _ptr(root)
        self.lo, self.hi, self.members = None, None, []

    def add(self, rec, arr):
        lo, hi = _extent(arr)
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)
        self.members.append((rec, _ptr(arr)))

    def storage(self, index):
        """The covered bytes as a 1-D array; sets each member's storage index and element offset."""
        for rec, ptr in self.members:
            rec['storage'], rec['offset'] = index, (ptr - self.lo) // self.dtype.itemsize
        raw = self.root.ravel(order='K').view(np.uint8)
        return raw[self.lo - self.base:self.hi - self.base].view(self.dtype)


def _enc_float(x):
    return x if math.isfinite(x) else {'$': 'float', 'v': repr(x)}


def _foreign_subclass(cls, param):
    """Whether ``cls`` is a Tensor subclass of a program's own (MONAI's MetaTensor; not a Parameter's), which
    torch.save pickles with its class and attributes rather than as data."""
    return cls is not Tensor and not cls.__module__.startswith('ember') and not (param and issubclass(cls, param))


def _cannot_save(obj, path):
    hint = ' For a Module or an Optimizer, save its state_dict().' if hasattr(obj, 'state_dict') else ''
    return (f'ember.save cannot store {path} of type {type(obj).__module__}.{type(obj).__qualname__}: only '
            'tensors, numpy arrays, containers (dict, OrderedDict, list, tuple, set) and plain values (int, '
            'float, bool, str, bytes, complex, None, dtype, Size, device) can be saved, because the file '
            f'format holds data, never code.{hint}')


class _Encoder:
    """Turns an object tree into JSON-able values, collecting tensors and the storages behind them."""

    def __init__(self):
        self.records, self._index, self._keep = [], {}, []
        self._groups, self._active, self._bf16_roots = {}, set(), {}
        self._param = _parameter_type()

    def run(self, obj):
        try:
            root = self.encode(obj, 'obj', 0)
        except RecursionError:
            raise ValueError('ember.save: the object is nested too deeply') from None
        storages = [g.storage(i) for i, g in enumerate(self._groups.values())]
        meta = [{'dtype': a.dtype.name, 'numel': int(a.size)} for a in storages]
        header = {'format': _FORMAT, 'version': _VERSION, 'storages': meta, 'tensors': self.records,
                  'root': root}
        return header, storages

    def encode(self, obj, path, depth):
        t = type(obj)
        if obj is None or t in (bool, int, str):
            return obj
        if t is float:
            return _enc_float(obj)
        if depth > _MAX_DEPTH:
            raise ValueError(f'ember.save: {path} is nested more than {_MAX_DEPTH} levels deep')
        if t in _VALUE_ENCODERS:
            return _VALUE_ENCODERS[t](self, obj, path, depth + 1)
        if isinstance(obj, Tensor):
            if _foreign_subclass(t, self._param) or obj.is_quantized:   # pickled whole (PyTorch's
                # _rebuild_from_type_v2 of the class; a quantized tensor's _rebuild_qtensor)
                raise TypeError(_cannot_save(obj, path))
            return self._ref(obj, self._tensor_record)
        if isinstance(obj, np.ndarray):
            return self._ref(obj, self._array_record)
        if isinstance(obj, np.generic):
            return self._npscalar(obj, path, depth + 1)
        if t in _CONTAINER_ENCODERS:
            return self._container(obj, path, depth + 1)
        raise TypeError(_cannot_save(obj, path))

    def _container(self, obj, path, depth):
        if id(obj) in self._active:
            raise ValueError(f'ember.save cannot store {path}: it is a container that holds itself')
        self._active.add(id(obj))
        try:
            return _CONTAINER_ENCODERS[type(obj)](self, obj, path, depth)
        finally:
            self._active.discard(id(obj))

    def _seq(self, obj, path, depth):
        return [self.encode(v, f'{path}[{i}]', depth) for i, v in enumerate(obj)]

    def _items(self, obj, path, depth):
        return [[self.encode(k, f'{path} key {k!r}', depth), self.encode(v, f'{path}[{k!r}]', depth)]
                for k, v in obj.items()]

    def _odict(self, obj, path, depth):
        out = {'$': 'odict', 'items': self._items(obj, path, depth)}
        meta = getattr(obj, '__dict__', {}).get('_metadata')
        if meta is not None:
            out['metadata'] = self.encode(meta, f'{path}._metadata', depth)
        return out

    def _ref(self, obj, make):
        i = self._index.get(id(obj))
        if i is None:
            i = self._index[id(obj)] = len(self.records)
            self._keep.append(obj)
            self.records.append(make(obj))
        return {'$': 'ref', 'id': i}

    def _tensor_record(self, t):
        arr = np.asarray(t._data)
        if _bf16.is_bf16(arr.dtype):   # saved as its 16-bit patterns (PyTorch's BFloat16Storage)
            rec = self._place(self._bf16_bits(arr))
            rec.update(dtype='bfloat16', requires_grad=bool(t.requires_grad),
                       type='parameter' if self._param is not None and isinstance(t, self._param) else 'tensor')
            return rec
        if arr.dtype not in _dtype.FROM_NP:
            raise TypeError(f'ember.save: a tensor has dtype {arr.dtype}, which is not an ember dtype')
        rec = self._place(arr)
        rec['requires_grad'] = bool(t.requires_grad)
        rec['type'] = 'parameter' if self._param is not None and isinstance(t, self._param) else 'tensor'
        return rec

    def _bf16_bits(self, arr):
        """The uint16 bit patterns of bf16 array ``arr``, as the same view of its root's patterns, so that
        tensors sharing a storage still share one when saved."""
        arr = arr.view(np.ndarray)
        root = _root(arr) if arr.size else None
        if root is None:
            return _bf16.to_bits(arr)
        bits = self._bf16_roots.get(id(root))
        if bits is None:
            bits = self._bf16_roots[id(root)] = _bf16.to_bits(root.reshape(-1, order='A'))
            self._keep.append((root, bits))
        start = (_ptr(arr) - _ptr(root)) // arr.itemsize
        return np.ndarray(arr.shape, np.uint16, buffer=bits, offset=start * 2,
                          strides=tuple(st // 2 for st in arr.strides))

    def _array_record(self, arr):
        rec = self._place(arr)
        rec['type'] = 'ndarray'
        return rec

    def _place(self, arr):
        """A record for ``arr``; a non-empty one joins the storage group of the memory it views."""
        arr = _savable_array(arr)
        rec = {'dtype': arr.dtype.name, 'shape': list(arr.shape), 'stride': [], 'offset': 0, 'storage': None}
        if arr.size == 0:
            rec['stride'] = [0] * arr.ndim
            return rec
        root = _root(arr)
        if root is None:
            arr = root = np.array(arr, order='C', copy=True)
        rec['stride'] = [s // arr.itemsize for s in arr.strides]
        key = (id(root), arr.dtype.str, (_ptr(arr) - _ptr(root)) % arr.itemsize)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(root, arr.dtype)
        group.add(rec, arr)
        return rec

    def _npscalar(self, obj, path, depth):
        _savable_array(np.asarray(obj))
        return {'$': 'npscalar', 'dtype': obj.dtype.name, 'v': self.encode(obj.item(), path, depth)}


def _savable_array(arr):
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder('='))
    if arr.dtype.name not in _STORAGE_DTYPES or arr.dtype != _STORAGE_DTYPES[arr.dtype.name]:
        raise TypeError(f'ember.save cannot store an array of dtype {arr.dtype}: only bool, integer, '
                        'floating and complex dtypes are supported')
    return arr


_VALUE_ENCODERS = {
    bytes: lambda e, o, p, d: {'$': 'bytes', 'v': base64.b64encode(o).decode('ascii')},
    complex: lambda e, o, p, d: {'$': 'complex', 'v': [_enc_float(o.real), _enc_float(o.imag)]},
    _dtype.dtype: lambda e, o, p, d: {'$': 'dtype', 'v': o.name},
    Size: lambda e, o, p, d: {'$': 'size', 'v': [int(s) for s in o]},
    device: lambda e, o, p, d: {'$': 'device', 'v': str(o)},
    slice: lambda e, o, p, d: {'$': 'slice', 'v': e._seq((o.start, o.stop, o.step), p, d)},
}
_CONTAINER_ENCODERS = {
    list: _Encoder._seq,
    tuple: lambda e, o, p, d: {'$': 'tuple', 'v': e._seq(o, p, d)},
    set: lambda e, o, p, d: {'$': 'set', 'v': e._seq(o, p, d)},
    frozenset: lambda e, o, p, d: {'$': 'frozenset', 'v': e._seq(o, p, d)},
    dict: lambda e, o, p, d: {'$': 'dict', 'items': e._items(o, p, d)},
    collections.defaultdict: lambda e, o, p, d: {'$': 'dict', 'items': e._items(o, p, d)},
    collections.OrderedDict: _Encoder._odict,
}


# ---------------------------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what ``save`` wrote, or a PyTorch zip file of tensors and plain containers. With ``weights_only``
    (the default unless a ``pickle_module`` is given, as in PyTorch) nothing in the file is run: anything but
    tensors, containers and plain values raises ``UnpicklingError``. A ``pickle_module`` (dill) other than
    ``pickle`` unpickles data.pkl with its Unpickler."""
    if weights_only is None:
        weights_only = pickle_module is None
    _check_load_args(f, map_location, pickle_module, weights_only, mmap, pickle_load_args)
    pickle_load_args.setdefault('encoding', 'utf-8')   # PyTorch's default (a Python 2 str is read as UTF-8)
    with _reader(f) as fh:
        if _is_legacy(fh, f if mmap else None):
            from . import _legacyload
            return _legacyload.load(fh, weights_only, pickle_load_args)
        with _open_zip(fh) as zf:
            kind, prefix = _find_record(zf)
            if kind == 'ember':
                return _load_ember(zf, prefix)
            if pickle_module is not None and pickle_module is not pickle:
                return _fullpickle.load(_read(zf, prefix + 'data.pkl'), False, _TorchStorages(zf, prefix),
                                        pickle_module.Unpickler, **pickle_load_args)
            try:
                return _load_torch(zf, prefix, pickle_load_args, weights_only)
            except UnpicklingError as exc:
                if not _fullpickle.may_load(exc, weights_only):
                    _fullpickle.explain_refusal(exc, weights_only)
                    raise
                return _fullpickle.load(_read(zf, prefix + 'data.pkl'), weights_only, _TorchStorages(zf, prefix),
                                        pickle.Unpickler, **pickle_load_args)


_UNPICKLER_ARGS = frozenset(('fix_imports', 'encoding', 'errors', 'buffers'))


def _check_load_args(f, map_location, pickle_module, weights_only, mmap, extra):
    _check_map_location(map_location)
    if weights_only not in (True, False):
        raise TypeError(f'weights_only must be a bool, got {type(weights_only).__name__}')
    if weights_only and pickle_module is not None:
        raise RuntimeError('Can not safely load weights when explicit pickle_module is specified')
    if mmap not in (True, False, None):
        raise TypeError(f'mmap must be a bool, got {type(mmap).__name__}')
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError('f must be a file path in order to use the mmap argument')
    if extra and weights_only:
        warnings.warn('pickle_load_args only works if `weights_only=False`.')
    _check_unpickler_args(pickle_module, weights_only, extra)


def _check_unpickler_args(pickle_module, weights_only, extra):
    """The keywords PyTorch's unpickler takes (its weights-only one only ``encoding``), refused with its errors;
    a ``pickle_module``'s Unpickler checks its own."""
    if weights_only:
        unknown = sorted(set(extra) - {'encoding'})
        if unknown:
            raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument '{unknown[0]}'")
    elif pickle_module is None or pickle_module is pickle:
        unknown = sorted(set(extra) - _UNPICKLER_ARGS)
        if unknown:
            raise TypeError(f"'{unknown[0]}' is an invalid keyword argument for Unpickler()")


def _check_map_location(m):
    """Accept what ``torch.load`` accepts; every target must be the CPU, the only device ember has."""
    if m is None or callable(m):
        return
    if isinstance(m, dict):
        for k, v in m.items():
            if not isinstance(k, str) or not isinstance(v, (str, device)):
                raise TypeError('map_location dict must map location strings to devices or device strings')
            device(v)
        return
    if not isinstance(m, (str, device)):
        raise TypeError(f'map_location must be None, a str, a device, a dict or a callable, got '
                        f'{type(m).__name__}')
    d = device(m)
    if d.type == 'cuda':
        raise RuntimeError('Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is '
                           'False. If you are running on a CPU-only machine, please use torch.load with '
                           "map_location=torch.device('cpu') to map your storages to the CPU.")
    if d.type != 'cpu':
        raise RuntimeError(f"ember can only load tensors onto the CPU, not map_location='{d}'")


@contextlib.contextmanager
def _reader(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, 'rb') as fh:
            yield fh
    elif hasattr(f, 'read'):
        yield f if _seekable(f) else io.BytesIO(f.read())
    else:
        raise AttributeError(f'load: f must be a path (str or os.PathLike) or a readable binary file object, '
                        f'got {type(f).__name__}')


def _seekable(f):
    try:
        return bool(f.seekable())
    except AttributeError:
        return hasattr(f, 'seek') and hasattr(f, 'tell')


def _head(fh, n=4):
    pos = fh.tell()
    head = fh.read(n)
    fh.seek(pos)
    return head


def _is_legacy(fh, mmap_path):
    """Whether ``fh`` holds PyTorch's legacy format (a pickle, or the older tar), read by _legacyload."""
    if _head(fh, 1) != b'\x80' and _head(fh, 262)[257:] != b'ustar':
        return False
    if mmap_path is not None:
        raise RuntimeError(f'mmap can only be used with files saved with `torch.save({mmap_path}, '
                           '_use_new_zipfile_serialization=True), please torch.save your checkpoint with this '
                           'option in order to use mmap.')
    return True


def _open_zip(fh):
    head = _head(fh)
    _require(head in (b'PK\x03\x04', b'PK\x05\x06'),
             f'not a zip archive written by ember.save or torch.save (it starts with {head!r})')
    start = fh.tell()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, OverflowError,
            NotImplementedError) as e:
        raise _zip_refusal(fh, start, e) from None
    counts = collections.Counter(zf.namelist())
    if len(counts) != len(zf.filelist):
        zf.close()
        twice = sorted(n for n, c in counts.items() if c > 1)[0]
        raise UnpicklingError(f'refused archive: it holds two entries named {twice!r}, and zip readers disagree '
                              'on which one counts (PyTorch picks by a binary search), so neither is trusted')
    return zf


def _find_record(zf):
    """('ember' or 'torch', entry prefix): the folder of the archive's first entry, as PyTorch reads it,
    holding ember.json (ember.save) or data.pkl (torch.save); a file claiming both formats is refused."""
    names = zf.namelist()
    _require(names and '/' in names[0], 'malformed archive: its first entry is not in a folder (ember.save and '
             'torch.save put every entry under one)')
    prefix = names[0].split('/', 1)[0] + '/'
    top = [n for n in names if n.count('/') == 1]
    has = {leaf: any(n.endswith('/' + leaf) for n in top) for leaf in (_HEADER, 'data.pkl')}
    _require(not (has[_HEADER] and has['data.pkl']), 'refused archive: it holds both ember.json (ember.save\'s '
             'format) and data.pkl (torch.save\'s), which ember and PyTorch would read differently')
    for kind, leaf in (('ember', _HEADER), ('torch', 'data.pkl')):
        if prefix + leaf in names:
            return kind, prefix
    raise UnpicklingError('malformed archive: it holds neither ember.json (ember.save) nor data.pkl '
                          f'(torch.save) in {prefix!r}, the folder of its first entry')


_LOCAL_HEADER = 30       # bytes of a zip local file header before the entry's name
_MAX_INFLATE = 1032      # deflate's largest possible expansion ratio


def _checked_info(zf, name):
    """The entry's ZipInfo once its declared sizes are shown possible for the bytes the archive holds, so
    that nothing is allocated for data the file does not contain."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise UnpicklingError(f'malformed archive: entry {name!r} is missing') from None
    method, packed, size = info.compress_type, info.compress_size, info.file_size
    _require(method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED), f'malformed archive: entry {name!r} uses '
             f'compression method {method}; ember.save and torch.save write stored (uncompressed) entries')
    _require(info.header_offset + _LOCAL_HEADER + packed <= zf.start_dir, f'malformed archive: entry {name!r} '
             f'declares {packed} bytes of data, more than the archive holds')
    if method == zipfile.ZIP_STORED:
        _require(size == packed, f'malformed archive: stored entry {name!r} declares {size} bytes but holds '
                 f'{packed}')
    else:
        _require(size <= packed * _MAX_INFLATE + 64, f'malformed archive: entry {name!r} declares {size} bytes '
                 f'inflated from {packed}, more than deflate can expand ({_MAX_INFLATE}:1)')
    return info


@contextlib.contextmanager
def _entry(zf, name):
    """Open an archive entry, reporting a missing or unreadable entry as ``UnpicklingError``."""
    info = _checked_info(zf, name)
    try:
        with zf.open(info) as fh:
            yield fh
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, OverflowError, NotImplementedError,
            RuntimeError) as e:
        if isinstance(e, UnpicklingError):
            raise
        raise UnpicklingError(f'malformed archive: cannot read entry {name!r} ({e})') from None


def _read(zf, name):
    with _entry(zf, name) as fh:
        return fh.read()


def _read_exact(zf, fh, nbytes, name, exact=False):
    """Exactly ``nbytes`` from an entry into a writable buffer. The buffer is allocated up front only for
    a stored entry (whose size _checked_info proved the file holds); an inflated one grows as data comes."""
    info = zf.getinfo(name)
    size = info.file_size
    if exact:
        _require(size == nbytes, f'malformed archive: record size ({size} bytes) of {name!r} does not match '
                 f'the expected size ({nbytes} bytes)')
    _require(nbytes <= size, f'malformed archive: entry {name!r} holds {size} bytes, {nbytes} expected')
    if info.compress_type == zipfile.ZIP_STORED:
        buf, got = bytearray(nbytes), 0
        with memoryview(buf) as view:
            while got < nbytes:
                chunk = fh.read(min(nbytes - got, _CHUNK))
                if not chunk:
                    break
                view[got:got + len(chunk)] = chunk
                got += len(chunk)
    else:
        buf = bytearray()
        while len(buf) < nbytes:
            chunk = fh.read(min(nbytes - len(buf), _CHUNK))
            if not chunk:
                break
            buf += chunk
        got = len(buf)
    _require(got == nbytes, f'malformed archive: entry {name!r} is truncated ({got} of {nbytes} bytes)')
    return buf


# ---- ember format
def _load_ember(zf, prefix):
    header = _parse_json(_read(zf, prefix + _HEADER))
    _require(isinstance(header, dict) and header.get('format') == _FORMAT, 'ember.json is not an ember header')
    version = header.get('version')
    _require(type(version) is int and 1 <= version <= _VERSION,
             f'unsupported ember file version {version!r} (this ember reads versions 1 to {_VERSION})')
    metas, recs = header.get('storages'), header.get('tensors')
    _require(type(metas) is list and type(recs) is list, 'ember.json lacks its storages and tensors lists')
    storages = [_read_npy(zf, f'{prefix}data/{i}.npy', m) for i, m in enumerate(metas)]
    refs = [_record_object(rec, storages, f'tensor record {i}') for i, rec in enumerate(recs)]
    return _Decoder(refs).run(header.get('root'))


def _parse_json(raw):
    def refuse(name):
        raise ValueError(f'non-standard constant {name}')
    try:
        return json.loads(raw.decode('utf-8'), parse_constant=refuse)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise UnpicklingError(f'malformed ember.json: {e}') from None


def _read_npy(zf, name, meta):
    """One storage: a 1-D ``.npy`` of a plain numeric dtype, read without pickle."""
    _require(isinstance(meta, dict), f'malformed storage description for {name!r}')
    dtype, numel = _storage_dtype(meta.get('dtype')), meta.get('numel')
    _require(dtype is not None, f'{name}: unsupported storage dtype {meta.get("dtype")!r}')
    _require(type(numel) is int and numel >= 0, f'{name}: malformed element count {numel!r}')
    with _entry(zf, name) as fh:
        shape, dt = _npy_header(fh, name)
        _require(not dt.hasobject, f'{name}: refused an object-dtype .npy (loading it would need pickle, '
                 'which can execute code)')
        if dt.newbyteorder('=') != dtype or shape != (numel,):
            raise UnpicklingError(f'{name}: holds {dt} {shape}, expected {dtype} ({numel},)')
        buf = _read_exact(zf, fh, numel * dt.itemsize, name)
    arr = np.frombuffer(buf, dt)
    return arr if dt.isnative else arr.astype(dtype)


def _npy_header(fh, name):
    try:
        version = np.lib.format.read_magic(fh)
        _require(version in ((1, 0), (2, 0)), f'{name}: unsupported .npy version {version}')
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dt = read(fh)
    except (ValueError, TypeError, SyntaxError, OSError) as e:
        raise UnpicklingError(f'{name}: malformed .npy header ({e})') from None
    return shape, dt


def _storage_dtype(name):
    """The NumPy dtype a file names, or None for anything else (a list or dict included)."""
    return _STORAGE_DTYPES.get(name) if type(name) is str else None


def _ints(v, what, where, nonneg=False):
    if not (type(v) in (list, tuple) and all(type(x) is int and (x >= 0 or not nonneg) for x in v)):
        raise UnpicklingError(f'{where}: malformed {what} {v!r}')
    return tuple(v)


def _record_object(rec, storages, where):
    """The tensor, Parameter or ndarray a JSON tensor record describes."""
    _require(isinstance(rec, dict), f'{where}: malformed record')
    kind = rec.get('type', 'tensor')
    _require(kind in ('tensor', 'parameter', 'ndarray'), f'{where}: unknown record type {kind!r}')
    dtype = _storage_dtype(rec.get('dtype'))
    _require(dtype is not None, f'{where}: unsupported dtype {rec.get("dtype")!r}')
    shape = _ints(rec.get('shape'), 'shape', where, nonneg=True)
    stride = _ints(rec.get('stride'), 'stride', where)
    if len(stride) != len(shape):
        raise UnpicklingError(f'{where}: shape {shape} and stride {stride} differ in length')
    sid, offset = rec.get('storage'), rec.get('offset', 0)
    if sid is None:
        _require(0 in shape, f'{where}: a non-empty tensor without a storage')
        arr = _empty(shape, dtype, where)
    else:
        _require(type(sid) is int and 0 <= sid < len(storages), f'{where}: no storage {sid!r}')
        if storages[sid].dtype != dtype:
            raise UnpicklingError(f'{where}: dtype {dtype} differs from its storage\'s')
        arr = _strided(storages[sid], offset, shape, stride, where)
    if kind == 'ndarray':
        return arr
    return _tensor_from(arr, rec.get('requires_grad', False), kind == 'parameter', where)


def _empty(shape, dtype, where):
    try:
        return np.empty(shape, dtype)
    except (ValueError, OverflowError, MemoryError) as e:
        raise UnpicklingError(f'{where}: bad shape {shape} ({e})') from None


def _strided(storage, offset, shape, stride, where):
    """The view of a 1-D storage at (offset, shape, stride) in elements, checked to stay inside it."""
    _require(type(offset) is int and offset >= 0, f'{where}: malformed storage offset {offset!r}')
    if 0 in shape:
        return _empty(shape, storage.dtype, where)
    lo = hi = offset
    for n, s in zip(shape, stride):
        lo, hi = (lo + (n - 1) * s, hi) if s < 0 else (lo, hi + (n - 1) * s)
    if lo < 0 or hi >= storage.size:
        raise UnpicklingError(f'{where}: offset {offset}, shape {list(shape)} and stride {list(stride)} reach '
                              f'outside its storage of {storage.size} elements')
    isz = storage.itemsize
    try:
        return np.ndarray(shape, storage.dtype, buffer=storage, offset=offset * isz,
                          strides=tuple(s * isz for s in stride))
    except (ValueError, TypeError, OverflowError) as e:
        raise UnpicklingError(f'{where}: bad layout ({e})') from None


def _tensor_from(arr, requires_grad, parameter, where):
    if arr.dtype not in _dtype.FROM_NP:
        raise UnpicklingError(f'{where}: dtype {arr.dtype} is not an ember tensor dtype')
    if type(requires_grad) is not bool:
        raise UnpicklingError(f'{where}: malformed requires_grad {requires_grad!r}')
    if requires_grad and arr.dtype.kind != 'f':
        raise UnpicklingError(f'{where}: only floating point tensors can require gradients, not {arr.dtype}')
    t = Tensor._make(arr)
    t._requires_grad = requires_grad
    return _as_parameter(t, requires_grad) if parameter else t


def _as_parameter(t, requires_grad):
    """``nn.Parameter`` sharing t's array; a plain tensor when ember.nn is not available."""
    param = _parameter_type()
    if param is None:
        return t
    p = param(t, requires_grad=requires_grad)
    if isinstance(p, Tensor) and p._data is not t._data:
        p._data = t._data
    return p


class _Decoder:
    """Rebuilds the object tree from its JSON description, refusing any unknown type tag."""

    def __init__(self, refs):
        self.refs = refs

    def run(self, v):
        try:
            return self.decode(v, 'obj', 0)
        except RecursionError:
            raise UnpicklingError('ember.json is nested too deeply') from None

    def decode(self, v, path, depth):
        if v is None or type(v) in (bool, int, float, str):
            return v
        _require(depth < _MAX_DEPTH, f'{path}: nested more than {_MAX_DEPTH} levels deep')
        if type(v) is list:
            return [self.decode(x, f'{path}[{i}]', depth + 1) for i, x in enumerate(v)]
        _require(type(v) is dict and type(v.get('$')) is str, f'{path}: malformed value of type '
                 f'{type(v).__name__}')
        tag = v['$']
        fn = _DECODERS.get(tag)
        _require(fn is not None, f'{path}: refused unknown type tag {tag!r} (ember files hold only tensors, '
                 'containers and plain values)')
        try:
            return fn(self, v, path, depth + 1)
        except UnpicklingError:
            raise
        except (TypeError, ValueError, KeyError, RuntimeError, AttributeError, OverflowError) as e:
            raise UnpicklingError(f'{path}: malformed {tag!r} value ({type(e).__name__}: {e})') from None

    def seq(self, v, path, depth):
        items = v['v']
        _require(type(items) is list, f'{path}: malformed {v["$"]!r} value')
        return [self.decode(x, f'{path}[{i}]', depth) for i, x in enumerate(items)]

    def items(self, v, path, depth):
        pairs = v['items']
        _require(type(pairs) is list and all(type(p) is list and len(p) == 2 for p in pairs),
                 f'{path}: malformed dict items')
        out = []
        for k, x in pairs:
            key = self.decode(k, f'{path} key', depth)
            out.append((key, self.decode(x, f'{path}[{key!r}]', depth)))
        return out

    def odict(self, v, path, depth):
        out = collections.OrderedDict(self.items(v, path, depth))
        if 'metadata' in v:
            out._metadata = self.decode(v['metadata'], f'{path}._metadata', depth)
        return out

    def ref(self, v, path, depth):
        i = v['id']
        _require(type(i) is int and 0 <= i < len(self.refs), f'{path}: no tensor record {i!r}')
        return self.refs[i]

    def float_(self, v, path, depth):
        return _NONFINITE[v['v']]

    def number(self, x, path, depth):
        x = self.decode(x, path, depth)
        _require(type(x) in (int, float), f'{path}: expected a number, got {type(x).__name__}')
        return x

    def complex_(self, v, path, depth):
        parts = v['v']
        _require(type(parts) is list and len(parts) == 2, f'{path}: malformed complex value')
        return complex(*(self.number(x, path, depth) for x in parts))

    def device(self, v, path, depth):
        _require(type(v['v']) is str, f'{path}: malformed device')
        return device(v['v'])

    def npscalar(self, v, path, depth):
        dt = _STORAGE_DTYPES[v['dtype']]
        x = self.decode(v['v'], path, depth)
        _require(type(x) in (bool, int, float, complex), f'{path}: malformed numpy scalar')
        return dt.type(x)


_DECODERS = {
    'tuple': lambda d, v, p, n: tuple(d.seq(v, p, n)),
    'set': lambda d, v, p, n: set(d.seq(v, p, n)),
    'frozenset': lambda d, v, p, n: frozenset(d.seq(v, p, n)),
    'dict': lambda d, v, p, n: dict(d.items(v, p, n)),
    'odict': _Decoder.odict,
    'ref': _Decoder.ref,
    'float': _Decoder.float_,
    'complex': _Decoder.complex_,
    'bytes': lambda d, v, p, n: base64.b64decode(v['v'], validate=True),
    'dtype': lambda d, v, p, n: _dtype._NAMES[v['v']],
    'size': lambda d, v, p, n: Size(_ints(v['v'], 'size', p, nonneg=True)),
    'device': _Decoder.device,
    'slice': lambda d, v, p, n: slice(*d.seq(v, p, n)),
    'npscalar': _Decoder.npscalar,
}


# ---- PyTorch zip format
class _Guarded:
    """Objects the restricted unpickler hands out; pickle's BUILD opcode may not alter them."""
    __slots__ = ()

    def __setstate__(self, state):
        raise UnpicklingError(f'refused data.pkl: it tries to set the state of a {self._what} (BUILD opcode)')

    _what = 'value'


class _StorageType(_Guarded):
    """Stands for ``torch.FloatStorage`` and friends in persistent ids."""
    __slots__ = ('name', 'dtype', 'bf16')
    _what = 'storage type'

    def __init__(self, name, dtype, bf16=False):
        self.name, self.dtype, self.bf16 = name, np.dtype(dtype), bf16


class _Marker(_Guarded):
    """Stands for ``torch.Tensor`` / ``torch.nn.Parameter`` in ``_rebuild_from_type_v2``."""
    __slots__ = ('name',)
    _what = 'type'

    def __init__(self, name):
        self.name = name


class _Plain(_Guarded):
    """A finished ember value (dtype, device) that BUILD must not reach."""
    __slots__ = ('value',)

    def __init__(self, value):
        self.value = value


class _Storage(_Guarded):
    __slots__ = ('arr',)
    _what = 'storage'

    def __init__(self, arr):
        self.arr = arr


class _TensorRec(_Guarded):
    __slots__ = ('arr', 'requires_grad', 'parameter')
    _what = 'tensor'

    def __init__(self, arr, requires_grad, parameter):
        self.arr, self.requires_grad, self.parameter = arr, requires_grad, parameter


class _PickledODict(collections.OrderedDict):
    """OrderedDict from data.pkl; BUILD may only attach a ``_metadata`` attribute (as state dicts do)."""

    def __setstate__(self, state):
        _require(isinstance(state, dict) and set(state) <= {'_metadata'},
                 'refused data.pkl: it sets attributes other than _metadata on an OrderedDict')
        self.__dict__.update(state)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    _require(isinstance(storage, _Storage), 'refused data.pkl: a tensor is rebuilt from a non-storage')
    _require(not backward_hooks, 'refused data.pkl: tensors with backward hooks are not loaded')
    _require(type(requires_grad) is bool, 'malformed data.pkl: requires_grad is not a bool')
    shape = _ints(size, 'size', 'data.pkl tensor', nonneg=True)
    stride = _ints(stride, 'stride', 'data.pkl tensor')
    _require(len(shape) == len(stride), 'malformed data.pkl: tensor size and stride differ in length')
    return _TensorRec(_strided(storage.arr, storage_offset, shape, stride, 'data.pkl tensor'), requires_grad,
                      False)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """A tensor of ``dtype`` over an UntypedStorage's bytes (as PyTorch saves the shell dtypes)."""
    _require(isinstance(storage, _Storage) and storage.arr.dtype == np.uint8,
             'refused data.pkl: a typed tensor is rebuilt from a non-byte storage')
    _require(isinstance(dtype, _Plain) and isinstance(dtype.value, _dtype.dtype) and dtype.value is not _dtype.bfloat16
             and storage.arr.size % dtype.value.itemsize == 0, 'malformed data.pkl: a tensor of an unknown dtype')
    return _rebuild_tensor_v2(_Storage(storage.arr.view(dtype.value.np)), storage_offset, size, stride, requires_grad,
                              backward_hooks, metadata)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    _require(isinstance(data, _TensorRec), 'refused data.pkl: a Parameter is rebuilt from a non-tensor')
    _require(type(requires_grad) is bool, 'malformed data.pkl: requires_grad is not a bool')
    _require(not backward_hooks, 'refused data.pkl: tensors with backward hooks are not loaded')
    return _TensorRec(data.arr, requires_grad, True)


class _QScheme(_Plain):
    """``torch.per_tensor_affine`` / ``per_channel_affine`` in data.pkl (ember's quantized module loads when one
    is met)."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    @property
    def value(self):
        from ._quantized import SCHEMES
        return SCHEMES[self.name]


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks):
    """A quantized tensor (per tensor or per channel affine) over a QInt8/QUInt8/QInt32 storage."""
    from . import _quantized
    _require(isinstance(storage, _Storage) and storage.arr.dtype.name in ('int8', 'uint8', 'int32'),
             'refused data.pkl: a quantized tensor is rebuilt from a non-integer storage')
    _require(not backward_hooks and requires_grad is False, 'refused data.pkl: a quantized tensor requires grad')
    _require(isinstance(quantizer_params, tuple) and quantizer_params and isinstance(quantizer_params[0], _Plain),
             'malformed data.pkl: quantizer parameters')
    shape = _ints(size, 'size', 'data.pkl tensor', nonneg=True)
    ints = np.array(_strided(storage.arr, storage_offset, shape, _ints(stride, 'stride', 'data.pkl tensor'),
                             'data.pkl tensor'))
    qdtype = {'int8': _dtype.qint8, 'uint8': _dtype.quint8, 'int32': _dtype.qint32}[ints.dtype.name]
    scheme = quantizer_params[0].value
    if scheme is _quantized.per_tensor_affine and len(quantizer_params) == 3:
        return _Plain(_quantized.make(ints, qdtype, scheme, float(quantizer_params[1]), int(quantizer_params[2])))
    _require(scheme is _quantized.per_channel_affine and len(quantizer_params) == 4
             and all(isinstance(p, _TensorRec) for p in quantizer_params[1:3]),
             f'refused data.pkl: quantized tensors of {scheme!r} are not loaded by ember')
    return _Plain(_quantized.make(ints, qdtype, scheme, quantizer_params[1].arr.astype(np.float64),
                                  quantizer_params[2].arr.astype(np.int64), int(quantizer_params[3])))


_TENSOR_TYPE, _PARAMETER_TYPE = _Marker('Tensor'), _Marker('Parameter')
_REBUILDERS = (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_parameter)


def _rebuild_from_type_v2(func, new_type, args, state):
    """Tensor (sub)class rebuild; Python attributes in ``state`` are dropped."""
    _require(func in _REBUILDERS and new_type in (_TENSOR_TYPE, _PARAMETER_TYPE) and type(args) is tuple,
             'refused data.pkl: _rebuild_from_type_v2 with an unsupported function or type')
    rec = func(*args)
    return _TensorRec(rec.arr, rec.requires_grad, True) if new_type is _PARAMETER_TYPE else rec


def _odict(items=()):
    return _PickledODict(items)


def _size(dims=()):
    return Size(_ints(dims, 'torch.Size', 'data.pkl', nonneg=True))


def _device(kind, index=None):
    _require(type(kind) is str and (index is None or type(index) is int), 'malformed data.pkl: bad device')
    return _Plain(device(kind, index))


def _complex(real=0.0, imag=0.0):
    _require(type(real) in (int, float) and type(imag) in (int, float), 'malformed data.pkl: bad complex')
    return complex(real, imag)


def _codecs_encode(text, encoding='utf-8'):
    _require(type(text) is str and encoding in ('latin1', 'latin-1'), 'refused data.pkl: _codecs.encode is '
             'only admitted for latin1 bytes')
    return text.encode('latin1')


_STORAGE_TYPES = {'FloatStorage': 'float32', 'DoubleStorage': 'float64', 'HalfStorage': 'float16',
                  'LongStorage': 'int64', 'IntStorage': 'int32', 'ShortStorage': 'int16',
                  'CharStorage': 'int8', 'ByteStorage': 'uint8', 'BoolStorage': 'bool',
                  'ComplexFloatStorage': 'complex64', 'ComplexDoubleStorage': 'complex128'}
_TORCH_GLOBALS = {
    ('collections', 'OrderedDict'): _odict,
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor_v2,
    ('torch._utils', '_rebuild_tensor_v3'): _rebuild_tensor_v3,
    ('torch.storage', 'UntypedStorage'): _StorageType('UntypedStorage', 'uint8'),
    ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('torch._utils', '_rebuild_parameter_with_state'): _rebuild_parameter,
    ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type_v2,
    ('torch', 'Tensor'): _TENSOR_TYPE,
    ('torch.nn.parameter', 'Parameter'): _PARAMETER_TYPE,
    ('torch', 'Size'): _size,
    ('torch', 'device'): _device,
    ('_codecs', 'encode'): _codecs_encode,
    ('torch', 'BFloat16Storage'): _StorageType('BFloat16Storage', 'uint16', bf16=True),
    ('torch._utils', '_rebuild_qtensor'): _rebuild_qtensor,
    ('torch', 'QInt8Storage'): _StorageType('QInt8Storage', 'int8'),
    ('torch', 'QUInt8Storage'): _StorageType('QUInt8Storage', 'uint8'),
    ('torch', 'QInt32Storage'): _StorageType('QInt32Storage', 'int32'),
}
_TORCH_GLOBALS.update({('torch', k): _StorageType(k, v) for k, v in _STORAGE_TYPES.items()})
_TORCH_GLOBALS.update({('torch', d.name): _Plain(d) for d in _dtype.ALL + (_dtype.qint8, _dtype.quint8, _dtype.qint32)})
_TORCH_GLOBALS.update({('torch', n): _QScheme(n) for n in ('per_tensor_affine', 'per_channel_affine')})
for _mod in ('builtins', '__builtin__'):
    _TORCH_GLOBALS.update({(_mod, 'set'): lambda items=(): set(items),
                           (_mod, 'frozenset'): lambda items=(): frozenset(items),
                           (_mod, 'complex'): _complex, (_mod, 'slice'): slice})


def _numpy_globals():
    """NumPy's pickle globals, as safe stand-ins (imported late: that module imports this one)."""
    from ._npunpickle import NUMPY_GLOBALS
    return NUMPY_GLOBALS


_REFUSED_OPCODES = {'BYTEARRAY8', 'NEXT_BUFFER', 'READONLY_BUFFER', 'EXT1', 'EXT2', 'EXT4', 'INST', 'OBJ'}


class _TorchStorages:
    """Reads the raw ``data/<key>`` entries of a PyTorch zip file as 1-D NumPy arrays, each once."""

    def __init__(self, zf, prefix):
        self.zf, self.prefix, self.cache = zf, prefix, {}
        names = set(zf.namelist())
        order = _read(zf, prefix + 'byteorder').strip() if prefix + 'byteorder' in names else b'little'
        _require(order in (b'little', b'big'), f'malformed archive: byteorder {order!r}')
        self.order = '<' if order == b'little' else '>'

    def get(self, stype, key, numel):
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = (stype, _Storage(self._read(stype, key, numel)))
        _require(hit[0] is stype, f'malformed data.pkl: storage {key!r} is used with two dtypes')
        return hit[1]

    def _read(self, stype, key, numel):
        name = f'{self.prefix}data/{key}'
        dt = stype.dtype.newbyteorder(self.order)
        with _entry(self.zf, name) as fh:
            arr = np.frombuffer(_read_exact(self.zf, fh, numel * dt.itemsize, name, exact=True), dt)
        arr = arr if dt.isnative else arr.astype(stype.dtype)
        return _bf16.from_bits(arr) if stype.bf16 else arr


_WO_HEAD = ('Weights only load failed. This file can still be loaded, to do so you have two options, \x1b[1mdo those '
            'steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) In PyTorch 2.6, we changed the '
            'default value of the `weights_only` argument in `torch.load` from `False` to `True`. Re-running '
            '`torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary code '
            'execution. Do it only if you got the file from a trusted source.\n\t(2) Alternatively, to load with '
            '`weights_only=True` please check the recommended steps in the following error message.\n\t'
            'WeightsUnpickler error: ')
_WO_TAIL = ('\n\nCheck the documentation of torch.load to learn more about types accepted by default with weights_only '
            'https://pytorch.org/docs/stable/generated/torch.load.html.')
_WO_OTHER = ('Weights only load failed. In PyTorch 2.6, we changed the default value of the `weights_only` argument in '
             '`torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will '
             'likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a '
             'trusted source.\nPlease file an issue with the following so that we can make `weights_only=True` '
             'compatible with your use case: WeightsUnpickler error: \n\n')
_WO_BUILD = _WO_OTHER + ('Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, '
                         'but got {cls}')
# The opcodes PyTorch's weights_only unpickler reads (torch/_weights_only_unpickler.py): protocol 2's binary ones,
# so that a file pickled with protocol 4 (FRAME, STACK_GLOBAL) loads only with weights_only=False, as in PyTorch.
_WO_OPCODES = frozenset((
    'GLOBAL', 'NEWOBJ', 'REDUCE', 'BUILD', 'APPEND', 'APPENDS', 'SETITEM', 'SETITEMS', 'MARK', 'TUPLE', 'TUPLE1',
    'TUPLE2', 'TUPLE3', 'NONE', 'NEWFALSE', 'NEWTRUE', 'EMPTY_TUPLE', 'EMPTY_LIST', 'EMPTY_DICT', 'EMPTY_SET',
    'BININT', 'BININT1', 'BININT2', 'BINFLOAT', 'BINUNICODE', 'SHORT_BINSTRING', 'BINPERSID', 'BINGET',
    'LONG_BINGET', 'BINPUT', 'LONG_BINPUT', 'LONG1', 'PROTO', 'STOP'))


def _weights_only_opcodes(data):
    """PyTorch's weights_only reader on data.pkl's opcodes: its warning for a protocol other than 2, its refusal
    of the first opcode it does not read."""
    for op, arg, _ in pickletools.genops(data):
        if op.name == 'PROTO' and arg != 2:
            warnings.warn(f'Detected pickle protocol {arg} in the checkpoint, which was not the default pickle '
                          'protocol used by `torch.load` (2). The weights_only Unpickler might not support all '
                          'instructions implemented by this protocol, please file an issue for adding support if '
                          'you encounter this.', stacklevel=4)
        if op.name not in _WO_OPCODES:
            raise UnpicklingError(f'{_WO_OTHER}Unsupported operand {op.code.encode("latin1")[0]}{_WO_TAIL}')


def unsupported_global(full):
    """PyTorch's message for a ``weights_only`` load meeting global ``full`` (module.name) it does not allow."""
    return (_WO_HEAD + f'Unsupported global: GLOBAL {full} was not an allowed global by default. Please use '
            f'`torch.serialization.add_safe_globals([{full}])` or the `torch.serialization.safe_globals([{full}])` '
            'context manager to allowlist this global if you trust this class/function.' + _WO_TAIL)


def _weights_only_numpy(module, name, stub):
    """A NumPy global under ``weights_only``: PyTorch refuses it unless it is allowlisted with
    torch.serialization.add_safe_globals / safe_globals (ember then still rebuilds it from its safe stand-in)."""
    if _fullpickle.allowed_global(module, name) is None:
        raise UnpicklingError(unsupported_global(f'{module}.{name}'))
    if (module, name) == ('numpy', 'dtype'):
        return _AllowlistedDtype
    return stub


def _allowlisted(obj):
    return any(obj is (e[0] if isinstance(e, tuple) else e) for e in _fullpickle.get_safe_globals())


def _AllowlistedDtype(*args, **kwargs):
    """numpy.dtype's safe stand-in whose BUILD (the dtype's state) PyTorch admits only for an allowlisted
    dtype class (numpy.dtypes.Int64DType...)."""
    stub = _numpy_globals()[('numpy', 'dtype')](*args, **kwargs)
    if not _allowlisted(type(stub.dtype)):
        raise UnpicklingError(_WO_BUILD.format(cls=type(stub.dtype)) + _WO_TAIL)
    return stub


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles data.pkl admitting only tensor rebuilds, storages, OrderedDict and plain values."""

    def __init__(self, fh, storages, **pickle_load_args):
        super().__init__(fh, **pickle_load_args)
        self._storages = storages

    _weights_only = False

    def find_class(self, module, name):
        obj = _TORCH_GLOBALS.get((module, name))
        if obj is None:
            obj = _numpy_globals().get((module, name))
            if obj is not None and self._weights_only:
                obj = _weights_only_numpy(module, name, obj)
        _require(obj is not None, f"refused to load the global '{module}.{name}' from data.pkl: ember loads only "
                 'tensors, containers and plain values from PyTorch files and never imports or calls other '
                 'code, whatever weights_only says')
        return obj

    def persistent_load(self, pid):
        return storage_reference(pid, self._storages)


def storage_reference(pid, storages):
    """The storage a data.pkl persistent id ``('storage', type, key, location, numel)`` names, read from
    ``storages`` (a ``_TorchStorages``)."""
    _require(type(pid) is tuple and len(pid) == 5 and pid[0] == 'storage',
             f'refused data.pkl: unsupported persistent id of type {type(pid).__name__}')
    _, stype, key, _location, numel = pid
    _require(isinstance(stype, _StorageType) and type(key) is str and type(numel) is int and numel >= 0,
             'refused data.pkl: malformed storage reference')
    return storages.get(stype, key, numel)


_MEMO_PUTS = {'PUT', 'BINPUT', 'LONG_BINPUT'}


def _scan_pickle(data, name, refused=_REFUSED_OPCODES):
    """Walk a pickle's opcodes before unpickling it. Refuses the opcodes in ``refused``, truncated arguments
    (CPython's unpickler allocates a BINBYTES8 of its declared length before reading it) and memo indices
    beyond the pickle's size (it sizes its memo table from the largest index: one 5-byte LONG_BINPUT asks
    for 32 GB). Shared with the dataset unpickler."""
    used = set()
    try:
        for op, arg, _ in pickletools.genops(data):
            used.add(op.name)
            if op.name in _MEMO_PUTS and not 0 <= arg <= len(data):
                raise UnpicklingError(f'refused {name}: it stores memo entry {arg}, far beyond its '
                                      f'{len(data)} bytes')
    except UnpicklingError:
        raise
    except Exception as e:
        raise UnpicklingError(f'malformed {name}: {e}') from None
    bad = used & refused
    _require(not bad, f'refused {name}: it uses the pickle opcodes {sorted(bad)}, which no tensor, container '
             'or plain value needs')


def _load_torch(zf, prefix, pickle_load_args, weights_only=False):
    storages = _TorchStorages(zf, prefix)
    data = _read(zf, prefix + 'data.pkl')
    _scan_pickle(data, 'data.pkl')
    if weights_only:
        _weights_only_opcodes(data)
    up = _TorchUnpickler(io.BytesIO(data), storages, **pickle_load_args)
    up._weights_only = weights_only
    try:
        obj = up.load()
        out = _Finisher().walk(obj, 'obj')
    except (UnpicklingError, MemoryError):
        raise
    except RecursionError:
        raise UnpicklingError('data.pkl is nested too deeply') from None
    except Exception as e:
        raise UnpicklingError(f'malformed data.pkl: {type(e).__name__}: {e}') from None
    return out


class _Finisher:
    """Turns the unpickled tree into plain ember objects, refusing anything that is not one."""

    def __init__(self):
        self.memo = {}

    def walk(self, obj, path):
        if obj is None or type(obj) in (bool, int, float, str, bytes, complex, Size) or isinstance(obj, np.generic):
            return obj
        done = self.memo.get(id(obj))
        if done is not None:
            return done
        fn = _FINISHERS.get(type(obj))
        if fn is None:
            fn = _numpy_finishers().get(type(obj))
        _require(fn is not None, f'{path}: refused an object of type {type(obj).__name__} from data.pkl')
        return fn(self, obj, path)

    def _keep(self, obj, out):
        self.memo[id(obj)] = out
        return out

    def list(self, obj, path):
        out = self._keep(obj, [])
        out.extend(self.walk(v, f'{path}[{i}]') for i, v in enumerate(obj))
        return out

    def dict(self, obj, path, out=None):
        out = self._keep(obj, {} if out is None else out)
        for k, v in obj.items():
            key = self.walk(k, f'{path} key')
            out[key] = self.walk(v, f'{path}[{key!r}]')
        return out

    def odict(self, obj, path):
        out = self.dict(obj, path, collections.OrderedDict())
        if '_metadata' in obj.__dict__:
            out._metadata = self.walk(obj.__dict__['_metadata'], f'{path}._metadata')
        return out

    def seq(self, obj, path):
        return self._keep(obj, type(obj)(self.walk(v, f'{path}[{i}]') for i, v in enumerate(obj)))

    def slice(self, obj, path):
        return self._keep(obj, slice(*(self.walk(v, path) for v in (obj.start, obj.stop, obj.step))))

    def array(self, stub, path):
        _require(stub.array is not None, f'{path}: refused a NumPy array that was never given its data')
        return self._keep(stub, stub.array)

    def tensor(self, rec, path):
        return self._keep(rec, _tensor_from(rec.arr, rec.requires_grad, rec.parameter, path))

    def storage(self, rec, path):
        """A storage saved as the file's object (pickled tensors' storages): a TypedStorage, as PyTorch loads
        even an UntypedStorage (as one of uint8)."""
        from .storage import TypedStorage
        return self._keep(rec, TypedStorage(_tensor_from(rec.arr, False, False, path)))


def _numpy_finishers():
    from ._npunpickle import _ArrayStub, _DtypeStub
    return {_ArrayStub: _Finisher.array, _DtypeStub: lambda f, o, p: o.dtype}


_FINISHERS = {list: _Finisher.list, dict: _Finisher.dict, _PickledODict: _Finisher.odict,
              tuple: _Finisher.seq, set: _Finisher.seq, frozenset: _Finisher.seq, slice: _Finisher.slice,
              _TensorRec: _Finisher.tensor, _Storage: _Finisher.storage, _Plain: lambda f, o, p: o.value}
