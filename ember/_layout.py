"""``torch.layout`` and ``torch.memory_format``: the memory layouts and formats PyTorch names; ember's tensors are all
``torch.strided``, row-major unless made channels_last (an NHWC array seen as NCHW)."""
import numpy as np


class layout:
    """A tensor memory layout; one object per name, printed as PyTorch prints it (``torch.strided``)."""
    __slots__ = ('_name',)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'torch.layout' instances")

    def __repr__(self):
        return 'torch.' + self._name

    def __reduce__(self):
        return self._name              # pickled by name, as PyTorch pickles it (loads the same object)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _make(name):
    obj = object.__new__(layout)
    obj._name = name
    return obj


strided = _make('strided')
sparse_coo = _make('sparse_coo')
sparse_csr = _make('sparse_csr')
sparse_csc = _make('sparse_csc')
sparse_bsr = _make('sparse_bsr')
sparse_bsc = _make('sparse_bsc')
_mkldnn = _make('_mkldnn')
jagged = _make('jagged')


def check(fn, value):
    """Refuse a ``layout=`` argument that is not ``torch.strided``: a non-layout as PyTorch does, other
    layouts by name (ember has no sparse, mkldnn or nested tensors)."""
    if value is None or value is strided:
        return
    if not isinstance(value, layout):
        raise TypeError(f"{fn}(): argument 'layout' must be torch.layout, not {type(value).__name__}")
    raise RuntimeError(f'{fn}(): ember supports only the strided layout (no sparse, mkldnn or nested tensors), '
                       f'not {value}; leave layout= out or pass torch.strided')


class memory_format:
    """The order of a tensor's dimensions in memory (an argument of ``contiguous``, ``to``, ``*_like``); printed
    as PyTorch prints it. Values never depend on it."""
    __slots__ = ('_name',)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'torch.memory_format' instances")

    __repr__, __reduce__ = layout.__repr__, layout.__reduce__
    __copy__, __deepcopy__ = layout.__copy__, layout.__deepcopy__


def _format(name):
    obj = object.__new__(memory_format)
    obj._name = name
    return obj


contiguous_format = _format('contiguous_format')
preserve_format = _format('preserve_format')
channels_last = _format('channels_last')
channels_last_3d = _format('channels_last_3d')
legacy_contiguous_format = contiguous_format   # PyTorch's alias (the same object)


_RANK = {'channels_last': 4, 'channels_last_3d': 5}


def check_format(fn, value, ndim):
    """Refuse a ``memory_format=`` PyTorch refuses: not a ``torch.memory_format``, or a channels-last format for a
    tensor of another rank."""
    if value is None:
        return
    if not isinstance(value, memory_format):
        raise TypeError(f"{fn}(): argument 'memory_format' must be torch.memory_format, not {type(value).__name__}")
    rank = _RANK.get(value._name)
    if rank is not None and ndim != rank:
        raise RuntimeError(f'required rank {rank} tensor to use {value._name} format')


def is_contiguous(a, fmt, fn='is_contiguous'):
    """``Tensor.is_contiguous(memory_format=fmt)`` for array ``a``: channels_last asks for the strides of an
    NHWC (NDHWC) array, size-1 dims aside, as PyTorch's test; another rank is not."""
    if fmt is not None and not isinstance(fmt, memory_format):
        check_format(fn, fmt, a.ndim)
    rank = _RANK.get(getattr(fmt, '_name', None))
    if rank is None:
        return a.flags.c_contiguous
    if a.ndim != rank:
        return False
    expected = a.itemsize
    for d in (1,) + tuple(range(a.ndim - 1, 1, -1)) + (0,):
        if a.shape[d] != 1:
            if a.strides[d] != expected:
                return False
            expected *= a.shape[d]
    return True


def suggests_channels_last(a):
    """Whether a 4-d/5-d array is laid out channels-last and not also C-contiguous (PyTorch's
    ``suggest_memory_format`` then names channels_last, and ``to(memory_format=contiguous_format)`` copies)."""
    rank = a.ndim
    if rank not in (4, 5) or a.flags.c_contiguous:
        return False
    return is_contiguous(a, channels_last if rank == 4 else channels_last_3d)


def strides_like_channels_last(shape, strides):
    """PyTorch's test of whether sizes and (element) strides look NHWC (NDHWC): its ``suggest_memory_format``,
    which decides whether ``to(memory_format=channels_last)`` may return its input. Size-1 dims are ambiguous: a
    C-contiguous (N, 1, H, W) or (N, C, 1, 1) tensor is not channels-last here (PyTorch's to() copies it to
    strides (HW, 1, W, 1) or (C, 1, C, C)) though is_contiguous(memory_format=channels_last) holds."""
    rank = len(shape)
    if rank not in (4, 5) or strides[1] == 0:
        return False
    low = 0
    for d in (1,) + tuple(range(rank - 1, 1, -1)) + (0,):
        if not shape[d] or strides[d] < low or (d == 0 and low == strides[1]):
            return False
        low = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def keep_channels_last(x, y):
    """``y`` (an op's result for input array ``x``, same rank) in NHWC (NDHWC) order when ``x`` is channels-last:
    PyTorch's CPU pooling, resampling, padding, group norm and gelu kernels keep that layout, and a dropout mask
    drawn after them follows memory order."""
    return _channels_last_copy(y) if y.ndim == x.ndim and suggests_channels_last(x) else y


def _channels_last_copy(a):
    """``a``'s values in an NHWC (NDHWC) array seen as NCHW (NCDHW): always a copy, whose size-1 dims get their
    channels-last strides too (ascontiguousarray kept a one-channel result's C strides: (16, 16, 4, 1), PyTorch's
    (16, 1, 4, 1))."""
    order = (0,) + tuple(range(2, a.ndim)) + (1,)
    return np.array(a.transpose(order), order='C').transpose(np.argsort(order))


def in_format(fn, a, fmt):
    """``a``'s values laid out in channels-last format ``fmt`` (None for the other formats: the caller's usual
    copy), after check_format."""
    check_format(fn, fmt, a.ndim)
    if _RANK.get(getattr(fmt, '_name', None)) is None:
        return None
    return _channels_last_copy(a)


def _sorted_dims(n, should_swap):
    """Dims outermost to innermost, insertion-sorted from innermost first by ``should_swap(d0, d1)`` (1: swap, -1:
    keep and stop, 0: ambiguous, go on), as PyTorch's reorder_dimensions and infer_dense_strides sort."""
    perm = list(range(n - 1, -1, -1))   # innermost first
    for i in range(1, n):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return tuple(reversed(perm))


def like_order(a, fmt=None):
    """The dims of a tensor made like array ``a`` (``*_like``, ``clone``) from outermost to innermost in memory.
    PyTorch's preserve_format (the default) keeps a dense input's layout and gives any other input dense strides in
    the order of its own (``infer_dense_strides``: dims sorted by stride, a zero stride ambiguous, equal strides by
    size); contiguous_format is C order, channels_last NHWC (NDHWC)."""
    name = getattr(fmt, '_name', 'preserve_format')
    n = a.ndim
    if name == 'contiguous_format' or n < 2 or (a.flags.c_contiguous and name == 'preserve_format'):
        return tuple(range(n))
    if name in _RANK:
        return (0,) + tuple(range(2, n)) + (1,)
    strides, sizes = a.strides, a.shape

    def should_swap(d0, d1):
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if sizes[d0] > sizes[d1] else 0
    return _sorted_dims(n, should_swap)


def like_copy(a):
    """A copy of array ``a`` laid out as PyTorch's ``clone()`` of it (preserve_format, see like_order): the
    out-of-place forms of in-place ops (index_put, select/slice/diagonal_scatter) clone their input so."""
    if type(a) is not np.ndarray or a.ndim < 2 or a.flags.c_contiguous:
        return a.copy()
    return copy_in_order(a, like_order(a))


def laid_out(values, shape, order):
    """``values`` (flat, or an array of the shape ``shape`` permuted by ``order``) placed in memory in ``order``:
    an array of ``shape`` whose element order in memory is ``values``' order."""
    permuted = np.asarray(values).reshape(tuple(shape[d] for d in order))
    return permuted.transpose(np.argsort(order))


def is_c_order(order):
    return all(d == i for i, d in enumerate(order))


def _broadcast_strides(a, shape):
    """``a``'s byte strides seen at the broadcast ``shape``: 0 for a broadcast (or missing) dim, as PyTorch's
    TensorIterator keeps them (a dim of size 1 in both keeps its stride)."""
    pad = len(shape) - a.ndim
    return (0,) * pad + tuple(0 if n == 1 and shape[pad + i] != 1 else abs(s)
                              for i, (n, s) in enumerate(zip(a.shape, a.strides)))


def iter_order(arrays, shape):
    """The dims of a pointwise result of ``arrays`` (broadcast to ``shape``) from outermost to innermost, by
    PyTorch's CPU TensorIterator: same-shaped operands all C-contiguous or all channels-last keep that format;
    otherwise dims are sorted by the FIRST operand's strides, a later operand deciding only where an earlier
    one is broadcast or ties (equal strides: the larger dim outside). A channels-last first operand so gives a
    channels-last result whatever the others are (timm's --channels-last relies on it)."""
    n = len(shape)
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.ndim]
    if all(a.shape == tuple(shape) for a in arrays) and arrays:
        if all(a.flags.c_contiguous for a in arrays):
            return tuple(range(n))
        if n in (4, 5) and all(is_contiguous(a, channels_last if n == 4 else channels_last_3d) for a in arrays):
            return (0,) + tuple(range(2, n)) + (1,)
    return stride_order(shape, [_broadcast_strides(a, shape) for a in arrays])


def stride_order(shape, strides):
    """Dims outermost to innermost as TensorIterator's reorder_dimensions sorts them: by the first operand's
    ``strides`` (one stride list per operand), a later operand deciding only where an earlier one has a zero
    stride or ties; equal strides put the larger dim outside."""
    def should_swap(d0, d1):
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0
    return _sorted_dims(len(shape), should_swap)


def apply(fn, args, lead=None):
    """``fn(*args)`` for an elementwise NumPy ``fn``, its result laid out as PyTorch's CPU kernels lay it out
    (iter_order of ``lead``, the operands in PyTorch's order, ``args`` by default): computed on the operands
    permuted into that order, so that NumPy writes it there directly (channels-last + row-major (8, 16, 16, 16)
    float32: 17 us, against 15 in NumPy's own layout and 55 computing it there and copying; min of 7x200)."""
    arrays = [x for x in (args if lead is None else lead) if isinstance(x, np.ndarray) and x.ndim]
    if not arrays or any(type(x).__name__ == 'MetaArray' for x in arrays):
        return fn(*args)
    try:
        shape = np.broadcast_shapes(*(x.shape for x in arrays))
    except ValueError:
        return fn(*args)    # fn raises the caller's broadcast error
    n = len(shape)
    if n < 2:
        return fn(*args)
    order = iter_order(arrays, shape)
    if order == tuple(range(n)):
        return follow(fn(*args), arrays, order)
    moved = [x.reshape((1,) * (n - x.ndim) + x.shape).transpose(order) if isinstance(x, np.ndarray) and x.ndim else x
             for x in args]
    r = fn(*moved)
    if not isinstance(r, np.ndarray) or r.ndim != n:
        return r
    return follow(r.transpose(np.argsort(order)), arrays, order)


def follow(r, arrays, order=None):
    """Pointwise result ``r`` laid out as PyTorch's CPU kernels lay out the result of ``arrays`` (``iter_order``,
    or ``order`` when known): ``r`` itself when NumPy chose that layout, else a copy in it. Callers skip it when
    every operand is C-contiguous (NumPy and PyTorch then both give C order)."""
    if not isinstance(r, np.ndarray) or r.ndim < 2 or type(r).__name__ == 'MetaArray':
        return r
    shape = r.shape
    order = iter_order(arrays, shape) if order is None else order
    want, step = [0] * r.ndim, r.itemsize
    for d in reversed(order):
        want[d] = step
        step *= shape[d]
    return r if tuple(want) == r.strides else copy_in_order(r, order)


def copy_in_order(r, order):
    """A copy of array ``r`` (any ndarray subclass) dense in memory ``order`` (dims outermost first)."""
    out = np.empty(tuple(r.shape[d] for d in order), r.dtype).transpose(np.argsort(order))
    np.copyto(out, r.view(np.ndarray))
    return out if type(r) is np.ndarray else out.view(type(r))
