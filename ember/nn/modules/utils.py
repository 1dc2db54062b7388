"""``torch.nn.modules.utils``: the size-tuple helpers that custom layers import (``from torch.nn.modules.utils
import _pair``) and ``consume_prefix_in_state_dict_if_present`` for checkpoints saved from a wrapped model."""
import collections.abc

__all__ = ['consume_prefix_in_state_dict_if_present']


def _ntuple(n, name='parse'):
    """A function making an ``n``-tuple of a value: an iterable as a tuple of its items, anything else repeated."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return (x,) * n
    parse.__name__ = name
    return parse


_single = _ntuple(1, '_single')
_pair = _ntuple(2, '_pair')
_triple = _ntuple(3, '_triple')
_quadruple = _ntuple(4, '_quadruple')


def _reverse_repeat_tuple(t, n):
    """Each item of ``t``, last first, repeated ``n`` times ((1, 2), 2 -> (2, 2, 1, 1): F.pad's order)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """``out_size`` with each None replaced by the matching trailing size of ``defaults`` (adaptive pooling)."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f'Input dimension should be at least {len(out_size) + 1}')
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` (``'module.'`` of a DataParallel/DDP checkpoint) from the keys of ``state_dict`` that
    start with it, in place, and from its ``_metadata`` keys (where the bare prefix without its dot also goes)."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for key in list(meta.keys()):
            if key and (key == prefix.replace('.', '') or key.startswith(prefix)):
                meta[key[len(prefix):]] = meta.pop(key)
