"""``ember.nn``: PyTorch's ``torch.nn`` (modules, parameters, functional, init, utils)."""
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from .modules import *  # noqa: F401,F403
from .modules import Module
from . import attention, common_types, functional, grad, init, utils   # common_types: torch.nn binds it at import
from .parallel import DataParallel
from . import parameter, modules

# the star import binds the layer modules (conv, linear...): torch.nn has them only under torch.nn.modules
for _name in [_n for _n, _v in globals().items() if getattr(_v, '__name__', '').startswith(__name__ + '.modules.')
              and type(_v) is type(modules)]:
    del globals()[_name]
del _name
