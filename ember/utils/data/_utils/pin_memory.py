"""``torch.utils.data._utils.pin_memory``: ``pin_memory(data)`` pins every tensor inside nested batches
(SpeechBrain's PaddedBatch imports it). On a CPU build a tensor's ``pin_memory()`` raises, as PyTorch's does."""
import collections.abc

from .._collate import _rebuild_mapping, _rebuild_sequence

__all__ = ['pin_memory']


def pin_memory(data, device=None):
    """``data`` with each object that has ``pin_memory()`` pinned, mappings and sequences rebuilt around them."""
    if hasattr(data, 'pin_memory'):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: pin_memory(v, device) for k, v in data.items()})
    if isinstance(data, tuple):
        items = (pin_memory(v, device) for v in data)
        return type(data)(*items) if hasattr(data, '_fields') else type(data)(items)
    if isinstance(data, collections.abc.Sequence):
        return _rebuild_sequence(data, [pin_memory(v, device) for v in data])
    return data
