"""``ember.nn.functional`` (``import ember.nn.functional as F``): PyTorch's functional API."""
from ._activation import *  # noqa: F401,F403
from ._linear import *  # noqa: F401,F403
from ._dropout import *  # noqa: F401,F403
from ._embedding import *  # noqa: F401,F403
from ._norm import *  # noqa: F401,F403
from ._loss import *  # noqa: F401,F403
from ._shuffle import *  # noqa: F401,F403
from ._interpolate import *  # noqa: F401,F403
from ._grid_sample import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._pool import *  # noqa: F401,F403
from ._conv3d import *  # noqa: F401,F403
from ._pool3d import *  # noqa: F401,F403
from ._pool_fractional import *  # noqa: F401,F403
from ._pad import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._ctc import *  # noqa: F401,F403
from ._linear_ce import *  # noqa: F401,F403
from ._loss import legacy_get_string as _legacy_get_string
from .. import grad  # noqa: F401  (F.grad is the module torch.nn.grad, as in PyTorch)

from ... import _builtin as _builtin_module  # noqa: E402
_builtin_module.seal(globals(), __name__)   # PyTorch's builtins do not bind as methods: nor do ember's
# PyTorch's F.conv2d is torch.conv2d (the names of F_BUILTINS['torch']): F holds ember's torch.<name>, a forwarder
# to F's own function, kept here
_OWN = {name: globals()[name] for name in _builtin_module.F_BUILTINS['torch'] if name in globals()}
_builtin_module.share(globals())

_OVERRIDES = ('handle_torch_function', 'has_torch_function', 'has_torch_function_unary',
              'has_torch_function_variadic')   # (PyTorch's F imports them from torch.overrides; code takes them from F)


def __getattr__(name):
    """torch.overrides' helpers under F, bound at first use (ember.overrides imports F as it installs); any other
    name missing as the aliasing module's getattr reports it (what this module would be given without its own)."""
    if name in _OVERRIDES:
        from ... import overrides
        bound = {name: getattr(overrides, name)}
        _builtin_module.seal(bound, __name__)   # (has_torch_function*: builtins in PyTorch's F, as the others)
        globals()[name] = bound[name]
        return globals()[name]
    from ...aliasing import module_getattr
    return module_getattr(__name__, name)


def __dir__():
    return sorted(set(globals()) | set(_OVERRIDES))
