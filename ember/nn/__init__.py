"""``ember.nn``: PyTorch's ``torch.nn`` (modules, parameters, functional, init, utils)."""
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from .modules import *  # noqa: F401,F403
from .modules import Module, register_module_forward_pre_hook, register_module_forward_hook, \
    register_module_full_backward_hook
from . import attention, functional, init, utils
from .parallel import DataParallel
from . import parameter, modules

del channelshuffle, upsampling, lazy  # noqa: F821 (bound by the star import; torch.nn has them only under torch.nn.modules)
