"""``default_collate`` / ``default_convert``: turn a list of samples into batched tensors the way
PyTorch does, stacking NumPy arrays directly (one ``np.stack``, one wrap) for speed."""
import collections.abc
import copy
import re

import numpy as np

from ..._dtype import FROM_NP
from ...ops.creation import refuse_negative_strides
from ...tensor import Tensor

np_str_obj_array_pattern = re.compile(r'[SaUO]')
default_collate_err_msg_format = ('default_collate: batch must contain tensors, numpy arrays, numbers, '
                                  'dicts or lists; found {}')


def _ember():
    import ember
    return ember


def _wrap(arr):
    """A tensor over ``arr`` without a copy when ember supports its dtype (else ``as_tensor`` decides)."""
    if type(arr) is np.ndarray and arr.dtype in FROM_NP:
        return Tensor._make(arr)
    return _ember().as_tensor(arr)


def _shared_stack(arrays):
    """``np.stack``, written into shared memory inside a DataLoader worker (see ``_worker.shared_stack``)."""
    from ._worker import shared_stack
    return shared_stack(arrays)


def _is_numpy(x):
    t = type(x)
    return t.__module__ == 'numpy' and t.__name__ not in ('str_', 'string_', 'bytes_')


def default_convert(data):
    """Convert NumPy arrays/scalars (also inside mappings and sequences) to tensors; leave the rest."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _ember().as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(proto, items):
    """A mapping of ``proto``'s type holding ``items`` (a copy updated in place when mutable)."""
    try:
        if isinstance(proto, collections.abc.MutableMapping):
            clone = copy.copy(proto)
            clone.update(items)
            return clone
        return type(proto)(items)
    except TypeError:
        return items


def _rebuild_sequence(proto, items):
    """A sequence of ``proto``'s type holding ``items``; a plain list when the type cannot be rebuilt."""
    try:
        if isinstance(proto, collections.abc.MutableSequence):
            clone = copy.copy(proto)
            for i, v in enumerate(items):
                clone[i] = v
            return clone
        return type(proto)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` by the type of its first element, recursing into mappings and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError('each element in list of batch should be of equal size')
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _check_shapes(shapes):
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise RuntimeError(f'stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 '
                               f'and {list(s)} at entry {i}')


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack tensors along a new first dimension (NumPy stack when dtypes agree, no grad is tracked and all are
    plain tensors: a subclass's stack goes through its ``__torch_function__``, MONAI's MetaTensor collates so)."""
    arrays = [t._data for t in batch]
    _check_shapes([a.shape for a in arrays])
    dt = arrays[0].dtype
    if (any(a.dtype != dt for a in arrays) or any(t._requires_grad for t in batch)
            or any(type(t) is not Tensor for t in batch)):
        return _ember().stack(list(batch), 0)
    return Tensor._make(_shared_stack(arrays))


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stack NumPy arrays into one tensor (string and object arrays are refused)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    _check_shapes([a.shape for a in batch])
    for a in batch:
        refuse_negative_strides(a)
    if any(a.dtype != elem.dtype for a in batch):
        return collate([_ember().as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)
    return _wrap(_shared_stack([np.asarray(a) for a in batch]))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars keep their dtype: ``[np.float32(1), ...]`` gives a float32 tensor."""
    if all(type(b) is type(batch[0]) for b in batch):
        return _wrap(np.array(batch))
    return _ember().as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats collate to float64 (as in PyTorch)."""
    if all(type(b) is float for b in batch):
        return Tensor._make(np.array(batch, dtype=np.float64))
    return _ember().tensor(batch, dtype=_ember().float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints collate to int64, bools to bool; mixed batches follow ``tensor``'s inference."""
    kind = type(batch[0])
    if kind in (int, bool) and all(type(b) is kind for b in batch):
        try:
            return Tensor._make(np.array(batch, dtype=np.bool_ if kind is bool else np.int64))
        except OverflowError:
            pass
    return _ember().tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes are left as they are."""
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Batch samples: tensors/arrays are stacked, numbers become tensors, containers are transposed."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
