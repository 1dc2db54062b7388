"""``torch._check`` and its family: the runtime assertions library code writes on shapes and arguments (torch-harmonics'
SHT checks its input's dims with ``torch._check``). A false condition raises the named error with ``message()``'s
text, or PyTorch's default text; a condition that is not a bool, or a message that is not callable, is a TypeError."""
import warnings

_DEFAULT = ('Expected cond to be True, but got False. (Could this error message be improved? If so, please report '
            'an enhancement request to PyTorch.)')


def _check_with(error_type, cond, message):
    """Raise ``error_type(message())`` where ``cond`` (a bool) is False."""
    from ._sym import SymBool
    from .tensor import Tensor
    if not isinstance(cond, (bool, SymBool)):
        if isinstance(cond, Tensor):
            raise TypeError('cond must be a bool, but got a Tensor. For tensor conditions, use '
                            'torch._check_tensor_all() to assert that all elements are true.')
        raise TypeError(f'cond must be a bool, but got {type(cond)}')
    if bool(cond):
        return
    if not issubclass(error_type, Exception) or issubclass(error_type, Warning):
        raise AssertionError(f'error_type must be a subclass of Exception but not Warning, got {error_type}')
    if message is None:
        raise error_type(_DEFAULT)
    if not callable(message):
        raise TypeError('message must be a callable')
    raise error_type(str(message()))


def _check(cond, message=None):
    _check_with(RuntimeError, cond, message)


def _check_index(cond, message=None):
    _check_with(IndexError, cond, message)


def _check_value(cond, message=None):
    _check_with(ValueError, cond, message)


def _check_type(cond, message=None):
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond, message=None):
    _check_with(NotImplementedError, cond, message)


def _check_is_size(i, message=None, *, max=None):
    """``i >= 0`` (and ``<= max``), with PyTorch's deprecation warning."""
    warnings.warn('_check_is_size will be removed in a future PyTorch release along with guard_size_oblivious.     '
                  'Use _check(i >= 0) instead.', FutureWarning, stacklevel=2)
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_tensor_all_with(error_type, cond, message=None):
    """All of boolean tensor ``cond`` true, else ``error_type``."""
    from .tensor import Tensor
    if not isinstance(cond, Tensor):
        raise TypeError(f'cond must be a tensor, but got {type(cond)}')
    if str(cond.dtype) != 'torch.bool':
        raise TypeError(f'cond tensor must have dtype torch.bool, but got {cond.dtype}')
    _check_with(error_type, bool(cond.all().item()), message)


def _check_tensor_all(cond, message=None):
    _check_tensor_all_with(RuntimeError, cond, message)
