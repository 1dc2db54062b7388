"""quantile and nanquantile, composed as PyTorch composes them (sort, gather at the ranks, lerp between the two
neighbours, then the in-place reshapes), so values, gradients and the grad_fn graph are PyTorch's."""
import numpy as np

from .. import _bf16
from .._dtype import scalar_name
from ..amp import _state as _autocast
from ..tensor import Tensor
from ._util import check_tensor_args

_MODES = ('linear', 'lower', 'higher', 'midpoint', 'nearest')


def _checks(input, q, dim, interpolation, op):
    a = input._data
    if a.dtype.kind != 'f' or a.dtype.itemsize < 4 or _bf16.is_bf16(a.dtype):   # bf16 is a float32 array here
        raise RuntimeError(f'{op}() input tensor must be either float or double dtype')
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f'{op}() q must be a scalar or 1D tensor')
        if q._data.dtype != a.dtype:
            raise RuntimeError(f'{op}() q tensor must be same dtype as the input tensor')
        vals = q._data
    else:
        vals = np.asarray(q, np.float64)
    if vals.size and not ((vals >= 0) & (vals <= 1)).all():
        raise RuntimeError(f'{op}() q values must be in the range [0, 1]' if isinstance(q, Tensor) else
                           f'{op}() q must be in the range [0, 1] but got {float(q)}')
    if interpolation not in _MODES:
        raise RuntimeError(f'{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, but '
                           f'got {interpolation}')
    if not a.size:
        raise RuntimeError(f'{op}() input tensor must be non-empty')


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    from . import gather
    from .creation import full_like
    from .pointwise import lerp
    from .shape import flatten, view, unsqueeze, transpose
    from ._util import wrap_dim
    _checks(input, q, dim, interpolation, op)
    a = input._data
    qt = q if isinstance(q, Tensor) else Tensor._make(np.asarray(q, a.dtype))
    scalar_q = qt._data.ndim == 0
    if dim is None:
        sorted_ = flatten(input).sort()[0]
        out_shape = [1] * a.ndim if keepdim else []
    else:
        d = wrap_dim(dim, a.ndim)
        sorted_ = input.sort()[0] if d == a.ndim - 1 else transpose(unsqueeze(input, -1), d, -1).sort()[0]
        out_shape = list(a.shape)
        if a.ndim and keepdim:     # (a 0-d input stays 0-d, keepdim or not)
            out_shape[d] = 1
        elif a.ndim:
            del out_shape[d]
    qv = view(qt, (1,)) if scalar_q else qt
    in_shape = out_shape + [sorted_._data.shape[-1]]
    sorted_ = view(sorted_, tuple(in_shape))
    last = sorted_._data.shape[-1] - 1
    isnan = Tensor._make(np.isnan(sorted_._data))
    if ignore_nan:
        ranks = qv * ((~isnan).sum(-1, keepdim=True) - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        ranks = (qv * last).masked_fill(isnan.any(-1, keepdim=True), last)   # q's gradient flows through ranks
    if interpolation == 'lower':
        ranks = ranks.floor()
    elif interpolation == 'higher':
        ranks = ranks.ceil()
    elif interpolation == 'nearest':
        ranks = ranks.round()
    below = ranks.long()
    values = gather(sorted_, -1, below)
    if interpolation in ('linear', 'midpoint'):
        if interpolation == 'midpoint':
            weights = full_like(ranks, 0.5).masked_fill(below == ranks, 0)
        else:
            weights = ranks - below
        above = ranks.ceil().long()
        values = lerp(values, gather(sorted_, -1, above), weights)
    if scalar_q:
        return values.squeeze_(-1)
    return values.unsqueeze_(0).transpose_(0, -1).squeeze_(-1)


@_autocast.fp32
def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear', axis=None, keepdims=None):
    """The q-th quantiles of ``input`` (flattened, or along ``dim``), interpolated between neighbours as
    ``interpolation`` says; a NaN in a slice makes its quantiles NaN (``axis``/``keepdims``: NumPy's spellings,
    which PyTorch accepts)."""
    try:
        return _quantile(input, q, dim if axis is None else axis, keepdim if keepdims is None else keepdims,
                         interpolation, False, 'quantile')
    except Exception:
        check_tensor_args('quantile', 'input', 'q#')
        raise


@_autocast.fp32
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear', axis=None, keepdims=None):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    try:
        return _quantile(input, q, dim if axis is None else axis, keepdim if keepdims is None else keepdims,
                         interpolation, True, 'nanquantile')
    except Exception:
        check_tensor_args('nanquantile', 'input', 'q#')
        raise
