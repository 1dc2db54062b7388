"""Tensor printing: ``repr``/``str`` of a tensor, matching PyTorch's output character for character,
and the print options (``set_printoptions``) that control it."""
import contextlib
import math
import types

import numpy as np

from . import _bf16, _layout, _meta

from . import _dtype
from .autograd import graph as _graph


# The current print options; the defaults are PyTorch's (a namespace: a dataclass's import and class
# generation took ~2 ms of ``import ember``).
PRINT_OPTS = types.SimpleNamespace(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)

# profile name -> (precision, threshold, edgeitems, linewidth)
_PROFILES = {'default': (4, 1000, 3, 80), 'short': (2, 1000, 2, 80), 'full': (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """Set the print options; a ``profile`` ('default', 'short', 'full') sets several at once, and
    ``sci_mode`` is always reset (None lets each tensor choose), as in PyTorch."""
    opts = PRINT_OPTS
    if profile in _PROFILES:
        opts.precision, opts.threshold, opts.edgeitems, opts.linewidth = _PROFILES[profile]
    if precision is not None:
        opts.precision = precision
    if threshold is not None:
        opts.threshold = threshold
    if edgeitems is not None:
        opts.edgeitems = edgeitems
    if linewidth is not None:
        opts.linewidth = linewidth
    opts.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict that can be passed back to ``set_printoptions``."""
    return dict(vars(PRINT_OPTS))


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options for its body and restores the previous ones after."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one element format (integer, int-valued float, fixed or scientific) and a column width
    for a whole tensor, from its (summarised) values."""

    def __init__(self, arr):
        self.floating = arr.dtype.kind == 'f'
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = arr.reshape(-1)
        if not self.floating:
            self.max_width = max([1] + [len(str(v)) for v in np.unique(flat).tolist()])
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size:
            self._choose_float_mode(vals)

    def _choose_float_mode(self, vals):
        """Pick int/sci mode from the nonzero finite values and measure the widest of them."""
        mags = np.abs(vals)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        auto_sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = auto_sci if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        uniq = np.unique(vals).tolist()
        if self.sci_mode:
            widths = [len(f'{v:.{p}e}') for v in uniq]
        elif self.int_mode:
            widths = [len(f'{v:.0f}') + 1 for v in uniq]
        else:
            widths = [len(f'{v:.{p}f}') for v in uniq]
        self.max_width = max(self.max_width, *widths)

    def width(self):
        return self.max_width

    def format(self, value):
        """One element (a Python scalar) as text, right-aligned to the column width."""
        p = PRINT_OPTS.precision
        if not self.floating:
            text = f'{value}'
        elif self.sci_mode:
            text = f'{value:{self.max_width}.{p}e}'
        elif self.int_mode:
            text = f'{value:.0f}' + ('' if math.isinf(value) or math.isnan(value) else '.')
        else:
            text = f'{value:.{p}f}'
        return text.rjust(self.max_width)


class _ComplexFormatter:
    """PyTorch's complex printing: one formatter for the real parts and one for the imaginary parts, each element
    printed ``real+imagj`` (the imaginary part's padding dropped, its sign kept)."""

    def __init__(self, arr):
        self.re, self.im = _Formatter(arr.real), _Formatter(arr.imag)

    def width(self):
        return self.re.width() + self.im.width() + 1

    def format(self, value):
        real_str = self.re.format(value.real)
        imag_str = (self.im.format(value.imag) + 'j').lstrip()
        return real_str + imag_str if imag_str[0] in '+-' else real_str + '+' + imag_str


def _summarized(arr):
    """Only the elements a summarised print shows (``edgeitems`` at each end of every dim), so that the
    formatter never scans a large tensor."""
    e = PRINT_OPTS.edgeitems
    if arr.ndim == 1:
        return np.concatenate((arr[:e], arr[-e:])) if arr.shape[0] > 2 * e else arr
    if arr.ndim >= 2 and not e:
        return arr[(slice(0, 0),) * arr.ndim]
    for axis, n in enumerate(arr.shape):
        if n > 2 * e:
            head = (slice(None),) * axis
            # slices, not np.take: take copies a whole stride-0 (expanded) view first (4 GB for 2^26 x 16)
            arr = np.concatenate((arr[head + (slice(0, e),)], arr[head + (slice(n - e, n),)]), axis=axis)
    return arr


def _vector_str(arr, indent, summarize, fmt):
    """A 1-D array as ``[a, b, ...]``, wrapped to the line width."""
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width() + 2)))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        items = ['...']
    elif summarize and arr.shape[0] > 2 * e:
        items = [fmt.format(v) for v in arr[:e].tolist()] + [' ...'] + \
                [fmt.format(v) for v in arr[-e:].tolist()]
    else:
        items = [fmt.format(v) for v in arr.tolist()]
    lines = [', '.join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'


def _nested_str(arr, indent, summarize, fmt):
    """An array of any rank as nested brackets; rows of an n-D array are separated by n-1 newlines."""
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, fmt)
    n, e = arr.shape[0], PRINT_OPTS.edgeitems
    if summarize and n > 2 * e:
        rows = list(range(e)) + [None] + list(range(n - e, n))
    else:
        rows = range(n)
    parts = ['...' if i is None else _nested_str(arr[i], indent + 1, summarize, fmt) for i in rows]
    return '[' + (',' + '\n' * (arr.ndim - 1) + ' ' * (indent + 1)).join(parts) + ']'


def _body_str(arr, indent):
    """The bracketed contents of a non-empty array, summarised past the threshold."""
    summarize = arr.size > PRINT_OPTS.threshold
    fmt = (_ComplexFormatter if arr.dtype.kind == 'c' else _Formatter)(_summarized(arr) if summarize else arr)
    return _nested_str(arr, indent, summarize, fmt)


def _add_suffixes(text, suffixes, indent, force_newline=False):
    """Append ``, suffix`` items and the closing paren, moving a suffix to its own line when it would
    pass the line width (PyTorch's rule, including its count of the last line's length); ``force_newline``
    puts the first one on a new line (a sparse tensor's)."""
    out = [text]
    last_len = len(text) - text.rfind('\n') + 1
    for suffix in suffixes:
        if force_newline or last_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(',\n' + ' ' * indent + suffix)
            last_len = indent + len(suffix)
            force_newline = False
        else:
            out.append(', ' + suffix)
            last_len += len(suffix) + 2
    out.append(')')
    return ''.join(out)


def _ember_class(cls, name):
    """Whether ``cls`` is ember's own class called ``name`` (Tensor or nn's Parameter)."""
    return cls.__name__ == name and cls.__module__.startswith('ember.')


def _prefix(t):
    """``tensor(`` for a plain tensor or a Parameter, else the subclass name, as PyTorch prints."""
    cls = type(t)
    plain = _ember_class(cls, 'Tensor') or _ember_class(cls, 'Parameter')
    return 'tensor(' if plain else cls.__name__ + '('


def _grad_suffix(t):
    """``grad_fn=<Name>`` for a non-leaf, ``requires_grad=True`` for a leaf that requires grad."""
    fn = t.grad_fn
    if fn is not None:   # (a stale view's, whose grad_fn PyTorch cannot read, prints as Invalid)
        return [f'grad_fn=<{"Invalid" if type(fn) is _graph.StaleView else type(fn).__name__}>']
    return ['requires_grad=True'] if t.requires_grad else []


def _dual_suffix(t):
    """The grad suffix, and ``tangent=tensor(...)`` for a dual tensor inside a forward-AD level (its grad_fn
    shown only when it has a history besides the level's seeds, as PyTorch's dual tensors have none)."""
    import sys
    forward_ad = sys.modules.get('ember.autograd.forward_ad')
    if forward_ad is None or not t.requires_grad:
        return _grad_suffix(t)
    primal, tangent = forward_ad.unpack_dual(t) if forward_ad.is_active() else (t, None)
    if tangent is None:
        return [] if forward_ad.history_is_seeds(t) else _grad_suffix(t)
    return (_grad_suffix(t) if primal is t else []) + ['tangent=' + tensor_repr(tangent)]


def _printable(arr):
    """The NumPy array a tensor's values print from (bfloat16 through its float32 values, as PyTorch prints it)."""
    if type(arr) is _bf16.BF16Array:
        return _bf16.to_f32(arr)
    return arr.view(np.ndarray) if arr.dtype.kind == 'c' else arr


def _tensor_str(self, indent):
    """The bracketed values of ``repr(self)`` as printed after ``indent`` columns (PyTorch's helper of that
    name; PyG's ``write_off`` prints positions and faces with it): ``[]`` when empty."""
    arr = _printable(self._data)
    return '[]' if arr.size == 0 else _body_str(arr, indent)


def tensor_repr(t, tensor_contents=None):
    """The text PyTorch's ``repr(tensor)`` gives: ``tensor([...])`` plus size/dtype/grad suffixes."""
    arr = t._data
    if type(arr) is _meta.MetaArray:
        return _meta_repr(t, tensor_contents)
    arr = _printable(arr)
    prefix = _prefix(t)
    indent = len(prefix)
    default = _dtype.DEFAULT.dtype
    suffixes = []
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append('size=' + str(tuple(arr.shape)))
        if t.dtype is not default:
            suffixes.append('dtype=' + repr(t.dtype))
        body = '[]' if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append('size=' + str(tuple(arr.shape)))
        if t.dtype not in (default, _dtype.default_complex(), _dtype.int64, _dtype.bool_):
            suffixes.append('dtype=' + repr(t.dtype))
        body = _body_str(arr, indent) if tensor_contents is None else tensor_contents
    text = _add_suffixes(prefix + body, suffixes + _dual_suffix(t), indent)
    if not _ember_class(type(t), 'Parameter') and any(_ember_class(c, 'Parameter') for c in type(t).__mro__):
        text = f'Parameter({text})'
    return text


def _meta_repr(t, tensor_contents):
    """A meta tensor as PyTorch prints it: ``tensor(..., device='meta', size=(3, 4))``, its dtype unless the default
    float one, then the grad suffixes."""
    prefix = _prefix(t)
    suffixes = ["device='meta'", 'size=' + str(tuple(t._data.shape))]
    if t.dtype is not _dtype.DEFAULT.dtype:
        suffixes.append('dtype=' + repr(t.dtype))
    text = _add_suffixes(prefix + ('...' if tensor_contents is None else tensor_contents),
                         suffixes + _grad_suffix(t), len(prefix))
    if not _ember_class(type(t), 'Parameter') and any(_ember_class(c, 'Parameter') for c in type(t).__mro__):
        text = f'Parameter({text})'
    return text


def sparse_repr(t):
    """A sparse tensor as PyTorch prints it: its parts (COO: indices and values; CSR: crow_indices, col_indices
    and values; each printed as a tensor, with its size when empty), then size, nnz, dtype (of the values, when
    not a default one) and layout, COO's first suffix on a new line."""
    indent = len('tensor(')
    parts = []
    coo = t.layout is _layout.sparse_coo
    for name, arr in ((('indices', t._idx), ('values', t._vals)) if coo else t._repr_parts()):
        prefix = name + '=tensor('
        body = _body_str(arr, indent + len(prefix)) if arr.size else '[]'
        if not arr.size:
            body += ', size=' + str(tuple(arr.shape))
        parts.append(prefix + body + ')')
    suffixes = ['size=' + str(tuple(t.shape)), 'nnz=' + str(t._idx.shape[1])]
    if t.dtype not in (_dtype.DEFAULT.dtype, _dtype.default_complex(), _dtype.int64, _dtype.bool_):
        suffixes.append('dtype=' + repr(t.dtype))
    suffixes.append('layout=' + repr(t.layout))
    suffixes += _grad_suffix(t)
    return _add_suffixes('tensor(' + (',\n' + ' ' * indent).join(parts), suffixes, indent, force_newline=coo)


def quantized_repr(t):
    """A quantized tensor as PyTorch prints it: its dequantized values, then size, dtype, quantization_scheme and
    the qparams (per channel: the scale and zero point tensors and the axis)."""
    from ._quantized import _dequantized, per_tensor_affine
    from .tensor import Tensor
    indent = len('tensor(')
    suffixes = ['size=' + str(tuple(t.shape)), 'dtype=' + repr(t.dtype), 'quantization_scheme=' + repr(t._qscheme)]
    if t._qscheme is per_tensor_affine:
        suffixes += ['scale=' + str(t._scale), 'zero_point=' + str(t._zp)]
    else:
        suffixes += ['scale=' + str(Tensor._make(t._scale)), 'zero_point=' + str(Tensor._make(t._zp)),
                     'axis=' + str(t._axis)]
    arr = _dequantized(t)
    body = '[]' if arr.size == 0 else _body_str(arr, indent)
    return _add_suffixes('tensor(' + body, suffixes, indent)
