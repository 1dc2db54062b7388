"""``ember.distributed.rpc`` (``torch.distributed.rpc``): the names programs touch without running RPC. ember has
no RPC agent, so ``is_available()`` is False, an ``RRef`` cannot be made and the calls raise PyTorch's errors for
an uninitialised RPC framework; helper code that only tests ``isinstance(out, torch.distributed.rpc.api.RRef)``
(the helper_train.py of Raschka's deeplearning-models) runs."""
from . import api
from .api import (RRef, get_worker_info, init_rpc, is_available, remote, rpc_async, rpc_sync, shutdown)

__all__ = ['RRef', 'api', 'get_worker_info', 'init_rpc', 'is_available', 'remote', 'rpc_async', 'rpc_sync',
           'shutdown']
