"""``torch.autocast`` as a CPU-only PyTorch runs it: CPU autocast runs the ops of PyTorch's CPU lists in bfloat16
or float16 (lower-precision list) or float32 (fp32 list), see ``_state``; CUDA autocast is disabled with
PyTorch's warning, and a dtype CPU autocast does not support disables it with PyTorch's warning."""
import collections.abc
import functools
import warnings

import numpy as np

from .. import _dtype
from ..tensor import DEVICE_TYPES, device as _device
from ._state import STATE

__all__ = ['autocast', 'is_autocast_available', 'custom_fwd', 'custom_bwd']

_DEFAULT_DTYPE = {'cpu': _dtype.bfloat16, 'cuda': _dtype.float16, 'xpu': _dtype.float16, 'mps': _dtype.float16,
                  'hpu': _dtype.bfloat16, 'xla': _dtype.bfloat16, 'mtia': _dtype.float16, 'maia': _dtype.float16}


def is_autocast_available(device_type):
    """Whether PyTorch has an autocast for ``device_type``."""
    return device_type in ('cpu', 'cuda', 'mps', 'xpu', 'hpu', 'xla', 'mtia', 'maia', 'ipu')


# the device types PyTorch's autocast state functions accept (ember computes on the CPU only)
_DEVICE_TYPES = DEVICE_TYPES


def _other_device(device_type):
    """A device type other than 'cpu', checked as PyTorch checks it (an unknown type raises its RuntimeError)."""
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f'Expected one of {", ".join(_DEVICE_TYPES)} device type at start of device string: '
                           f'{device_type}')
    return device_type


def _bool(value, what='enabled'):
    if not isinstance(value, bool):
        raise TypeError(f'{what} must be a bool (got {type(value).__name__})')
    return value


def get_autocast_dtype(device_type):
    """The dtype autocast uses on ``device_type`` in this thread (set_autocast_dtype changes it)."""
    if device_type == 'cpu':
        return STATE.dtype
    device_type = _other_device(device_type)
    return STATE.others.get(device_type, (False, _DEFAULT_DTYPE.get(device_type, _dtype.float16)))[1]


def set_autocast_dtype(device_type, dtype):
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f'dtype must be a torch.dtype (got {type(dtype).__name__})')
    if device_type == 'cpu':
        STATE.dtype = dtype
    else:
        device_type = _other_device(device_type)
        STATE.others[device_type] = (is_autocast_enabled(device_type), dtype)


def is_autocast_enabled(device_type='cuda'):
    """Whether autocast is on for ``device_type`` in this thread (no argument: CUDA's). Only CPU autocast
    changes ember's ops: tensors on other devices do not exist here, as on a CPU-only PyTorch."""
    if device_type == 'cpu':
        return STATE.enabled
    device_type = _other_device(device_type)
    return STATE.others.get(device_type, (False,))[0]


def set_autocast_enabled(device_type, enabled=None):
    """Turn autocast on or off for ``device_type`` in this thread (one argument: CUDA's flag, deprecated)."""
    if enabled is None:
        device_type, enabled = 'cuda', device_type
    _bool(enabled)
    if device_type == 'cpu':
        STATE.enabled = enabled
    else:
        device_type = _other_device(device_type)
        STATE.others[device_type] = (bool(enabled), get_autocast_dtype(device_type))


def is_autocast_cache_enabled():
    return STATE.cache_enabled


def set_autocast_cache_enabled(enabled):
    STATE.cache_enabled = _bool(enabled)


def clear_autocast_cache():
    """Drop the casts of float32 weights kept for this autocast region."""
    STATE.cache.clear()


def autocast_increment_nesting():
    STATE.nesting += 1
    return STATE.nesting


def autocast_decrement_nesting():
    STATE.nesting -= 1
    return STATE.nesting


class autocast:
    """Context manager and decorator: inside it, the ops of PyTorch's CPU autocast lists run in ``dtype``
    (bfloat16 by default) or float32; ``enabled=False`` turns autocast off inside an enclosing region."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
        self.device = device_type
        if not is_autocast_available(self.device):
            _device(device_type)   # PyTorch's error for a string that names no device
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if self.device == 'cuda':
                warnings.warn('CUDA is not available or torch_xla is imported. Disabling autocast.', stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = self.device.upper()
                warnings.warn(f'In {name} autocast, but the target dtype is not supported. Disabling autocast.\n'
                              f'{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.',
                              stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f'autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean to '
                            'use autocast as a context manager? For example:\n'
                            '    with torch.autocast(device_type=...):\n'
                            '        output = model(input)')

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        decorate_autocast.__script_unsupported = '@autocast() decorator is not supported in script mode'
        return decorate_autocast


def _cast(value, device_type, dtype):
    """Floating tensors (float64 excepted) in ``value``, a nest of containers, cast to ``dtype``."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        ok = value.is_floating_point() and value.device.type == device_type and value.dtype is not _dtype.float64
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        it = (_cast(v, device_type, dtype) for v in value)
        return type(value)(it) if isinstance(value, (list, tuple)) else it
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom ``Function.forward``: with ``cast_inputs``, inside an autocast region its floating
    inputs are cast to that dtype and it runs with autocast off; without, it runs in the current state."""
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        on = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if on:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom ``Function.backward``: it runs in the autocast state its forward ran in."""
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
