"""``ember.distributed`` (``torch.distributed``): importable, with ``is_available()`` False since ember
has no process groups; ``is_initialized()`` answers False and the collectives say they are not
supported by ember yet when called."""
import enum

from ..aliasing import unsupported_function

_DETAIL = 'ember has no process groups (torch.distributed.is_available() is False); run in one process'
_COLLECTIVES = ('init_process_group', 'destroy_process_group', 'get_rank', 'get_world_size', 'get_backend',
                'new_group', 'barrier', 'all_reduce', 'reduce', 'broadcast', 'all_gather', 'gather', 'scatter',
                'reduce_scatter', 'all_to_all', 'send', 'recv', 'all_gather_object', 'broadcast_object_list')
for _name in _COLLECTIVES:
    globals()[_name] = unsupported_function(f'torch.distributed.{_name}', _DETAIL)
del _name


def is_available():
    return False


def is_initialized():
    return False


def is_torchelastic_launched():
    return False


class ReduceOp(enum.Enum):
    """The reduction operations' names, for code that refers to them."""
    SUM = 'sum'
    AVG = 'avg'
    PRODUCT = 'product'
    MIN = 'min'
    MAX = 'max'
