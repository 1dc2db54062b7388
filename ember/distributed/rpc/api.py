"""``torch.distributed.rpc.api``: the RRef class and the RPC calls, none of which can run on ember."""
from ...aliasing import unsupported_function

_NOT_INITIALIZED = 'RPC has not been initialized. Call torch.distributed.rpc.init_rpc first.'
_NO_AGENT = 'Current RPC agent is not set! Did you initialize the RPC framework (e.g. by calling `rpc.init_rpc`)?'


def is_available():
    """False: ember has no RPC framework (``init_rpc`` is not supported)."""
    return False


class RRef:
    """A remote reference. There is never one on ember: making one raises PyTorch's error for a process whose
    RPC agent is not set, so ``isinstance(x, RRef)`` is False for every object."""

    def __init__(self, value, type_hint=None):
        raise RuntimeError(_NO_AGENT)


def _uninitialized(name):
    """A stand-in for RPC call ``name`` that raises PyTorch's error for an uninitialised RPC framework."""
    def call(*args, **kwargs):
        raise RuntimeError(_NOT_INITIALIZED)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f'torch.distributed.rpc.{name}: raises RuntimeError, RPC is never initialised on ember.'
    return call


rpc_sync, rpc_async, remote, get_worker_info, shutdown = (
    _uninitialized(n) for n in ('rpc_sync', 'rpc_async', 'remote', 'get_worker_info', 'shutdown'))
init_rpc = unsupported_function('torch.distributed.rpc.init_rpc', 'ember has no RPC framework')


def _require_initialized(func):
    """Decorate ``func`` to raise PyTorch's uninitialised-RPC error when called (PyG's distributed/rpc.py wraps
    its helpers at import): ember never has an RPC agent."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        raise RuntimeError(_NOT_INITIALIZED)
    return wrapper
