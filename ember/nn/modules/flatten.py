"""``Flatten`` and ``Unflatten``: reshape a range of dims into one, and back."""
from ...ops import shape as _shape
from .module import Module

__all__ = ['Flatten', 'Unflatten']


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return _shape.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f'start_dim={self.start_dim}, end_dim={self.end_dim}'


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, int):
            self._require_tuple_int(unflattened_size)
        elif isinstance(dim, str):
            raise TypeError('ember does not support named tensors (Unflatten with a str dim)')
        else:
            raise TypeError('invalid argument type for dim parameter')
        self.dim = dim
        self.unflattened_size = unflattened_size

    def _require_tuple_int(self, value):
        if isinstance(value, (tuple, list)):
            for idx, elem in enumerate(value):
                if not isinstance(elem, int):
                    raise TypeError(f'unflattened_size must be tuple of ints, but found element of type '
                                    f'{type(elem).__name__} at pos {idx}')
            return
        raise TypeError(f'unflattened_size must be a tuple of ints, but found type {type(value).__name__}')

    def forward(self, input):
        return _shape.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f'dim={self.dim}, unflattened_size={self.unflattened_size}'
