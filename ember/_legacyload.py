"""Reading PyTorch's legacy checkpoint format (``torch.save`` before 1.6, or with
``_use_new_zipfile_serialization=False``): five pickles in a row (magic number, protocol version, system
info, the object with storages as persistent ids, the sorted storage keys), then each storage as a
little-endian int64 element count and its raw little-endian bytes.

Every pickle is walked opcode by opcode (reads capped at the file's end) before it is unpickled, with the
same restricted unpickler as the zip format; storages are allocated only once the sum of their declared
sizes is shown to fit in the bytes left after the object's pickle, so a crafted file cannot ask for memory
it does not hold."""
import io
import pickle
import pickletools
import sys

import numpy as np

from . import _bf16
from .serialization import (_CorruptFile, UnpicklingError, _Finisher, _require, _scan_pickle, _Storage, _StorageType,
                            _TorchUnpickler)

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
_TAR_MAGIC_AT = 257   # a tar header holds b'ustar' at this offset


def is_legacy(head):
    """Whether the first bytes of a file are a pickle (the legacy format begins with one)."""
    return head[:1] == b'\x80'


def is_tar(fh):
    """Whether ``fh`` (at its start) is the pre-0.1.10 tar format."""
    pos = fh.tell()
    fh.seek(pos + _TAR_MAGIC_AT)
    magic = fh.read(5)
    fh.seek(pos)
    return magic == b'ustar'


class _Capped:
    """A file view whose reads stop at ``end``, so that a pickle declaring a huge length reads no more
    than the file holds (CPython's readers allocate the declared length before reading)."""

    def __init__(self, fh, end):
        self.fh, self.end = fh, end

    def read(self, n=-1):
        left = max(self.end - self.fh.tell(), 0)
        return self.fh.read(left if n is None or n < 0 else min(n, left))

    def readline(self, limit=-1):
        left = max(self.end - self.fh.tell(), 0)
        return self.fh.readline(left if limit is None or limit < 0 else min(limit, left))

    def tell(self):
        return self.fh.tell()


def _next_pickle(fh, end, what):
    """The bytes of the pickle starting at ``fh``'s position, which is left just after it."""
    start = fh.tell()
    try:
        for _ in pickletools.genops(_Capped(fh, end)):
            pass
    except Exception as e:
        raise UnpicklingError(f'malformed legacy checkpoint: the {what} pickle is unreadable ({e})') from None
    stop = fh.tell()
    fh.seek(start)
    data = fh.read(stop - start)
    _scan_pickle(data, f'the {what} pickle')
    return data


class _PlainUnpickler(pickle.Unpickler):
    """For the header pickles: plain values only (a plain pickle that is no checkpoint is refused here)."""

    def find_class(self, module, name):
        raise UnpicklingError(f"refused to load the global '{module}.{name}' from a pickle file (a legacy "
                              'checkpoint begins with plain values): ember never imports or calls code named in '
                              'a file')


def _plain(fh, end, what, pickle_load_args):
    data = _next_pickle(fh, end, what)
    try:
        return _PlainUnpickler(io.BytesIO(data), **pickle_load_args).load()
    except UnpicklingError:
        raise
    except Exception as e:
        raise UnpicklingError(f'malformed legacy checkpoint: the {what} pickle ({type(e).__name__}: {e})') from None


def _text(x):
    """Python 2 pickles may give internal keys as bytes (PyTorch's _maybe_decode_ascii)."""
    return x.decode('ascii') if type(x) is bytes else x


class _LegacyStorages:
    """Storages named in the object pickle: each allocated when first named, once the total declared
    size fits in ``budget`` bytes (what the file holds after that pickle); filled after it."""

    def __init__(self, budget):
        self.budget, self.roots, self.views, self.filled = budget, {}, {}, set()

    def get(self, stype, key, numel, view):
        _require(isinstance(stype, _StorageType) and type(key) is str and type(numel) is int and numel >= 0,
                 'refused legacy checkpoint: malformed storage reference')
        root = self.roots.get(key)
        if root is None:
            need = 8 + numel * stype.dtype.itemsize
            _require(need <= self.budget, f'malformed legacy checkpoint: storage {key!r} declares {numel} '
                     f'elements ({need} bytes), more than the file holds after its pickle')
            self.budget -= need
            arr = np.empty(numel, _bf16.NP if stype.bf16 else stype.dtype)
            root = self.roots[key] = (stype, _Storage(arr))
        _require(root[0] is stype, f'malformed legacy checkpoint: storage {key!r} is used with two dtypes')
        return root[1] if view is None else self._view(root[1].arr, key, view)

    def _view(self, arr, key, view):
        """An old-style storage view (view key, offset, size) into root storage ``key``."""
        _require(type(view) is tuple and len(view) == 3, 'refused legacy checkpoint: malformed storage view')
        view_key, offset, size = view
        _require(type(offset) is int and type(size) is int and 0 <= offset and 0 <= size
                 and offset + size <= arr.size, f'malformed legacy checkpoint: storage view {view_key!r} '
                 f'(offset {offset}, size {size}) reaches outside storage {key!r} of {arr.size} elements')
        hit = self.views.get(view_key)
        if hit is None:
            hit = self.views[view_key] = _Storage(arr[offset:offset + size])
        return hit

    def fill(self, fh, end, keys):
        """Read each storage's element count and bytes, in the order the key list gives."""
        _require(type(keys) is list and all(type(k) is str for k in keys),
                 'malformed legacy checkpoint: the storage key list is not a list of strings')
        for key in keys:
            _require(key in self.roots and key not in self.filled, f'malformed legacy checkpoint: storage key '
                     f'{key!r} is unknown or listed twice')
            self.filled.add(key)
            stype, storage = self.roots[key]
            self._fill_one(fh, end, key, storage.arr, stype.bf16)
        missing = sorted(set(self.roots) - self.filled)
        _require(not missing, f'malformed legacy checkpoint: storage {missing[:1]} has no data')

    def _fill_one(self, fh, end, key, arr, bf16):
        raw = fh.read(8)
        _require(len(raw) == 8, f'malformed legacy checkpoint: storage {key!r} is truncated')
        numel = int.from_bytes(raw, 'little', signed=True)
        _require(numel == arr.size, f'malformed legacy checkpoint: storage has wrong byte size: expected '
                 f'{arr.size} got {numel} (storage {key!r})')
        raw = np.empty(arr.size, np.uint16) if bf16 else arr
        _require(raw.nbytes <= end - fh.tell(), f'malformed legacy checkpoint: storage {key!r} is truncated')
        got = fh.readinto(memoryview(raw).cast('B')) if raw.nbytes else 0
        _require(got == raw.nbytes, f'malformed legacy checkpoint: storage {key!r} is truncated')
        if sys.byteorder == 'big' and raw.itemsize > 1:
            raw.byteswap(inplace=True)
        if bf16:
            arr[:] = _bf16.from_bits(raw).view(np.ndarray)


class _LegacyUnpickler(_TorchUnpickler):
    """The zip format's restricted unpickler, with legacy persistent ids:
    ('storage', type, key, location, numel, view) or a refused ('module', ...)."""

    def persistent_load(self, pid):
        _require(type(pid) is tuple and len(pid) >= 1, 'refused legacy checkpoint: unsupported persistent id')
        kind = _text(pid[0])
        _require(kind != 'module', 'refused legacy checkpoint: it pickles a whole module (torch.save(model) '
                 'before PyTorch 1.6), which only loads by running its code; load a state_dict instead')
        _require(kind == 'storage' and len(pid) == 6, f'refused legacy checkpoint: unsupported persistent id '
                 f'{kind!r}')
        _, stype, key, _location, numel, view = pid
        return self._storages.get(stype, _text(key), numel, view)


def _explain(exc, weights_only):
    """A refused global: legacy files load as data only, whatever ``weights_only`` says."""
    if 'refused to load the global' in str(exc):
        exc.args = (f'Weights only load failed: {exc.args[0]}. ember loads legacy-format checkpoints (torch.save '
                    'before PyTorch 1.6) as data only, even with weights_only=False: load the file in PyTorch '
                    'and save its tensors again',) + exc.args[1:]


def _file_end(fh):
    pos = fh.tell()
    end = fh.seek(0, 2)
    fh.seek(pos)
    return end


def load(fh, weights_only, pickle_load_args):
    """The object in a legacy-format checkpoint ``fh`` (positioned at its start)."""
    if is_tar(fh):
        raise UnpicklingError('refused a checkpoint in the legacy .tar format (PyTorch before 0.1.10): PyTorch '
                              'itself loads it only with weights_only=False, which runs code from the file, and '
                              'ember never does; load it in PyTorch and save its state_dict again')
    end = _file_end(fh)
    if _plain(fh, end, 'magic number', pickle_load_args) != MAGIC_NUMBER:
        raise _CorruptFile('Invalid magic number; corrupt file?')
    version = _plain(fh, end, 'protocol version', pickle_load_args)
    _require(version == PROTOCOL_VERSION, f'Invalid protocol version: {version!r}')
    _plain(fh, end, 'system information', pickle_load_args)
    data = _next_pickle(fh, end, 'object')
    storages = _LegacyStorages(end - fh.tell())
    try:
        obj = _LegacyUnpickler(io.BytesIO(data), storages, **pickle_load_args).load()
    except UnpicklingError as exc:
        _explain(exc, weights_only)
        raise
    except MemoryError:
        raise
    except RecursionError:
        raise UnpicklingError('the legacy checkpoint\'s object pickle is nested too deeply') from None
    except Exception as e:
        raise UnpicklingError(f'malformed legacy checkpoint: {type(e).__name__}: {e}') from None
    storages.fill(fh, end, _plain(fh, end, 'storage keys', pickle_load_args))
    try:
        return _Finisher().walk(obj, 'obj')
    except RecursionError:
        raise UnpicklingError('the legacy checkpoint\'s object is nested too deeply') from None
