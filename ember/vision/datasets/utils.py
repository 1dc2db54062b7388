"""Download, checksum, extraction and safe unpickling helpers shared by the datasets (stdlib only)."""
import gzip
import hashlib
import io
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request

import numpy as np

from ..._npunpickle import NUMPY_GLOBALS, _ArrayStub, _DtypeStub
from ...serialization import UnpicklingError, _scan_pickle

__all__ = ['calculate_md5', 'check_md5', 'check_integrity', 'download_url', 'extract_archive',
           'download_and_extract_archive', 'restricted_load', 'DownloadError']

USER_AGENT = 'ember-vision'
TIMEOUT = 60


class DownloadError(RuntimeError):
    """A file could not be fetched from any of its URLs."""


def calculate_md5(fpath, chunk_size=1024 * 1024):
    """Hex md5 of a file, read in chunks so large archives need little memory."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5):
    return md5 == calculate_md5(fpath)


def check_integrity(fpath, md5=None):
    """True when ``fpath`` is a file and (if ``md5`` is given) its checksum matches."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or check_md5(fpath, md5)


def _urlretrieve(url, fpath):
    """Stream ``url`` into ``fpath`` through a temporary file so no partial file is left behind."""
    request = urllib.request.Request(url, headers={'User-Agent': USER_AGENT})
    folder = os.path.dirname(fpath) or '.'
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.download-')
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response, os.fdopen(fd, 'wb') as out:
            shutil.copyfileobj(response, out)
        os.replace(tmp, fpath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def download_url(url, root, filename=None, md5=None):
    """Download ``url`` to ``root/filename`` unless a file with the right checksum is already there."""
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):    # torchvision 0.28 prints nothing here, nor while downloading
        return fpath
    try:
        _urlretrieve(url, fpath)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise DownloadError(f'could not download {url}: {getattr(e, "reason", e)}') from e
    if not check_integrity(fpath, md5):
        os.remove(fpath)
        raise DownloadError(f'{url} was downloaded but its md5 does not match {md5}: file corrupted')
    return fpath


def _check_members(tar, to_path):
    """Refuse members that would land outside ``to_path`` (for Pythons without tar filters)."""
    root = os.path.realpath(to_path)
    for m in tar.getmembers():
        target = os.path.realpath(os.path.join(root, m.name))
        if os.path.commonpath([root, target]) != root or m.issym() or m.islnk() or m.isdev():
            raise RuntimeError(f'refusing to extract unsafe archive member {m.name!r}')


def _extract_tar(from_path, to_path):
    with tarfile.open(from_path, 'r:*') as tar:
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(to_path, filter='data')
        else:
            _check_members(tar, to_path)
            tar.extractall(to_path)


def _extract_gzip(from_path, to_path):
    out = os.path.join(to_path, os.path.basename(from_path)[:-3])
    with gzip.open(from_path, 'rb') as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst)


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract a ``.tar``/``.tar.gz``/``.tgz`` archive or a single ``.gz`` file into ``to_path``."""
    from_path = os.fspath(from_path)
    to_path = os.fspath(to_path) if to_path is not None else os.path.dirname(from_path)
    name = from_path.lower()
    if name.endswith(('.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tar.xz')):
        _extract_tar(from_path, to_path)
    elif name.endswith('.gz'):
        _extract_gzip(from_path, to_path)
    else:
        raise RuntimeError(f'Unsupported archive type: {from_path}')
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    """Download an archive (checksum-verified) and extract it, as torchvision's helper of that name."""
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else os.fspath(extract_root)
    fpath = download_url(url, download_root, filename, md5)
    extract_archive(fpath, extract_root, remove_finished)


def _bytearray(source=b'', encoding=None, errors='strict'):
    """``bytearray`` of given bytes only: ``bytearray(n)`` would allocate n bytes the file never held."""
    if isinstance(source, str) and encoding in ('latin1', 'latin-1'):
        return bytearray(source, 'latin1')
    if isinstance(source, bytes) and encoding is None:
        return bytearray(source)
    raise UnpicklingError(f'refusing bytearray({type(source).__name__}): only bytearrays of given bytes are '
                          'loaded')


def _encode(text, encoding='utf-8', errors='strict'):
    if not (isinstance(text, str) and encoding in ('latin1', 'latin-1')):
        raise UnpicklingError('refusing _codecs.encode other than of text to latin1 bytes')
    return text.encode('latin1')


def _safe_globals():
    allowed = {**NUMPY_GLOBALS, ('_codecs', 'encode'): _encode}
    for mod in ('builtins', '__builtin__'):
        allowed.update({(mod, 'set'): lambda items=(): set(items),
                        (mod, 'frozenset'): lambda items=(): frozenset(items),
                        (mod, 'bytearray'): _bytearray, (mod, 'complex'): _complex})
    return allowed


def _complex(real=0.0, imag=0.0):
    if not (type(real) in (int, float) and type(imag) in (int, float)):
        raise UnpicklingError('refusing complex() of anything but numbers')
    return complex(real, imag)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds plain containers, bytes, str, numbers and NumPy arrays."""
    _allowed = _safe_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnpicklingError(f'refusing to load {module}.{name}: this pickle holds more than plain data and '
                                  'NumPy arrays') from None


def _finish(obj, memo):
    """The unpickled tree with the NumPy stubs turned into arrays and dtypes; anything else is refused."""
    done = memo.get(id(obj))
    if done is not None:
        return done
    t = type(obj)
    if obj is None or t in (bool, int, float, complex, str, bytes, bytearray) or isinstance(obj, np.generic):
        return obj
    if t is _ArrayStub:
        if obj.array is None:
            raise UnpicklingError('refusing a numpy array that was never given its data')
        out = obj.array
    elif t is _DtypeStub:
        out = obj.dtype
    elif t is dict:
        out = memo[id(obj)] = {}
        out.update((_finish(k, memo), _finish(v, memo)) for k, v in obj.items())
    elif t is list:
        out = memo[id(obj)] = []
        out.extend(_finish(v, memo) for v in obj)
    elif t in (tuple, set, frozenset):
        out = t(_finish(v, memo) for v in obj)
    else:
        raise UnpicklingError(f'refusing an object of type {t.__name__}')
    memo[id(obj)] = out
    return out


def restricted_load(file, encoding='latin1'):
    """Load a data pickle (like CIFAR's batches) without running code or allocating more than the file
    holds: its opcodes are checked first, then only plain values and NumPy arrays are rebuilt."""
    name = getattr(file, 'name', 'the pickle')
    data = file.read()
    _scan_pickle(data, name)
    try:
        return _finish(_RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load(), {})
    except (UnpicklingError, MemoryError):
        raise
    except RecursionError:
        raise UnpicklingError(f'{name} is nested too deeply') from None
    except Exception as e:
        raise UnpicklingError(f'malformed pickle {name}: {type(e).__name__}: {e}') from None


def iterable_to_str(iterable):
    """``'a', 'b', 'c'``: the quoted items, for error messages."""
    return "'" + "', '".join(str(item) for item in iterable) + "'"


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """``value`` if it is a string among ``valid_values``; a ValueError naming the argument otherwise."""
    if not isinstance(value, str):
        where = '' if arg is None else f' for argument {arg}'
        raise ValueError(f'Expected type str{where}, but got type {type(value)}.')
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is None:
        custom_msg = (f"Unknown value '{value}' for argument {arg}. "
                      f'Valid values are {{{iterable_to_str(valid_values)}}}.')
    raise ValueError(custom_msg)
