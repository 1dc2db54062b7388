"""PyTorch's "shell" dtypes (uint16, uint32, uint64): the ops that have kernels for them and how the others
refuse, in one place, so that no op silently computes them in another dtype."""


def promotion(a, b):
    """Refuse to promote a shell dtype with another non-floating dtype, as c10's promoteTypes does."""
    from ._dtype import scalar_name
    raise RuntimeError('Promotion for uint16, uint32, uint64 types is not supported, attempted to promote '
                       f'{scalar_name(a)} and {scalar_name(b)}')


def _element(v, np_dtype, bits):
    """Python number ``v`` as an element of a uint tensor torch.tensor builds: uint16/uint32 take integers down
    to -max (wrapping) and floats in range (truncated); uint64 takes non-negative integers only."""
    if isinstance(v, complex) or not isinstance(v, (int, float)):
        if bits == 64:
            raise TypeError('an integer is required')
        raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")
    if bits == 64:
        if isinstance(v, float):
            raise TypeError('an integer is required')
        if v < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if v >= 1 << 64:
            raise OverflowError('int too big to convert')
        return int(v)
    top = (1 << bits) - 1
    if isinstance(v, float):
        if not 0 <= v <= top:
            raise RuntimeError(f'value cannot be converted to type {np_dtype.name} without overflow')
        return int(v)
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError('Overflow when unpacking long long')
    if not -top <= v <= top:
        raise RuntimeError(f'value cannot be converted to type {np_dtype.name} without overflow')
    return v & top


def from_python(data, np_dtype):
    """The array torch.tensor(data, dtype=uint16/32/64) builds from nested Python numbers, element by element
    as PyTorch converts them (NumPy's casts would wrap floats and reject uint64's top half)."""
    import numpy as np
    bits = np_dtype.itemsize * 8

    def walk(x):
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        return _element(x, np_dtype, bits)
    return np.array(walk(data), dtype=np_dtype)
