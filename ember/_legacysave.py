"""Writing PyTorch's legacy checkpoint format (``torch.save(..., _use_new_zipfile_serialization=False)``),
the layout ``_legacyload`` reads: the magic number, protocol version and system information pickles, the
object's pickle, the sorted storage keys, then each storage as an int64 element count and its bytes."""
import pickle
import sys

import numpy as np

from ._legacyload import MAGIC_NUMBER, PROTOCOL_VERSION

_SYS_INFO = {'protocol_version': PROTOCOL_VERSION, 'little_endian': sys.byteorder == 'little',
             'type_sizes': {'short': 2, 'int': 4, 'long': 4}}   # the sizes PyTorch records, whatever the C types


def write(fh, pkl, raw, protocol):
    """The legacy file of the object pickle ``pkl`` whose persistent ids name ``raw[int(key)]`` by key."""
    for value in (MAGIC_NUMBER, PROTOCOL_VERSION, _SYS_INFO):
        fh.write(pickle.dumps(value, protocol))
    fh.write(pkl)
    keys = sorted(str(i) for i in range(len(raw)))   # string order, as PyTorch sorts its keys
    fh.write(pickle.dumps(keys, protocol))
    for key in keys:
        _write_storage(fh, raw[int(key)])


def _write_storage(fh, arr):
    """One storage: its element count (an untyped storage's entry is its bytes), then its bytes in native order."""
    fh.write(int(arr.size).to_bytes(8, sys.byteorder, signed=True))
    if arr.nbytes:
        fh.write(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
