"""``ember.multiprocessing`` (``torch.multiprocessing``): the standard library's multiprocessing, plus
``spawn``/``start_processes`` that start ranks of a distributed job and report a failing one as
PyTorch does. ember tensors are NumPy arrays and pickle by value, so no sharing strategy is needed."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403 (torch.multiprocessing re-exports it all)

from .spawn import (ProcessContext, ProcessException, ProcessExitedException, ProcessRaisedException,
                    SpawnContext, spawn, start_processes)

__all__ = list(multiprocessing.__all__) + ['spawn', 'start_processes', 'ProcessContext', 'SpawnContext',
                                           'ProcessException', 'ProcessRaisedException',
                                           'ProcessExitedException', 'get_sharing_strategy',
                                           'set_sharing_strategy', 'get_all_sharing_strategies']
_STRATEGIES = {'file_descriptor', 'file_system'}
_STRATEGY = ['file_descriptor']


def get_all_sharing_strategies():
    """The sharing strategies PyTorch knows on Linux; ember pickles tensors by value under any of them."""
    return set(_STRATEGIES)


def get_sharing_strategy():
    return _STRATEGY[0]


def set_sharing_strategy(new_strategy):
    """Record the strategy (tensors travel by value in ember either way)."""
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f'sharing strategy must be one of {sorted(_STRATEGIES)}, got {new_strategy!r}')
    _STRATEGY[0] = new_strategy
