"""``ember.nn``: PyTorch's ``torch.nn`` (modules, parameters, functional, init, utils)."""
from .parameter import Parameter, Buffer
from .modules import *  # noqa: F401,F403
from .modules import Module
