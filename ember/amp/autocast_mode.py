"""``torch.autocast`` as a CPU-only PyTorch runs it: CUDA autocast is disabled with PyTorch's warning;
CPU autocast (bfloat16/float16 matmuls and convolutions) is refused (PyTorch's op lists are not
implemented), unless it is disabled (``enabled=False``, or a dtype PyTorch's CPU autocast disables)."""
import functools
import warnings

from .. import _dtype
from ..tensor import device as _device

__all__ = ['autocast', 'is_autocast_available', 'custom_fwd', 'custom_bwd']

_DEFAULT_DTYPE = {'cpu': _dtype.bfloat16, 'cuda': _dtype.float16}


def is_autocast_available(device_type):
    """Whether PyTorch has an autocast for ``device_type`` ('cpu' and 'cuda' as in PyTorch)."""
    return device_type in ('cpu', 'cuda', 'mps', 'xpu')


def get_autocast_dtype(device_type):
    """The dtype autocast would use on ``device_type`` (PyTorch's defaults)."""
    return _DEFAULT_DTYPE.get(device_type, _dtype.float16)


def is_autocast_enabled(device_type=None):
    """Autocast never runs in ember (see ``autocast``)."""
    return False


class autocast:
    """Context manager and decorator; on ember it only ever runs disabled (see the module docstring)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
        self.device = _device(device_type).type
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        self._enabled = self._decide(bool(enabled))

    def _decide(self, enabled):
        """Whether autocast would really change dtypes, warning where PyTorch disables it."""
        if not enabled:
            return False
        if self.device == 'cuda':
            warnings.warn('CUDA is not available or torch_xla is imported. Disabling autocast.', UserWarning,
                          stacklevel=3)
            return False
        if self.device != 'cpu':
            return False
        if self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
            warnings.warn('In CPU autocast, but the target dtype is not supported. Disabling autocast.\n'
                          'CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.',
                          UserWarning, stacklevel=3)
            return False
        raise NotImplementedError(
            f"torch.autocast('cpu', dtype={self.fast_dtype!r}) is not supported by ember yet (it would run "
            'matmuls and convolutions in reduced precision); pass enabled=False or drop the autocast')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom ``Function.forward``; autocast is never on in ember, so inputs are not cast."""
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        args[0]._fwd_used_autocast = False
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom ``Function.backward`` (runs it as the forward ran: without autocast)."""
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        return bwd(*args, **kwargs)
    return decorate_bwd
