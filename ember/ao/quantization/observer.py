"""``torch.ao.quantization.observer``: modules that record the range of the tensors they see and turn it into
quantization parameters (``calculate_qparams``) as PyTorch's: MinMaxObserver, MovingAverageMinMaxObserver,
PerChannelMinMaxObserver, MovingAveragePerChannelMinMaxObserver, PlaceholderObserver, and the ``with_args``
factories qconfigs hold. The arithmetic runs on float32 tensors in PyTorch's order, so the scales are its bits."""
import functools
import warnings

from ... import _dtype
from ..._quantized import (per_channel_affine, per_channel_affine_float_qparams, per_channel_symmetric,
                           per_tensor_affine, per_tensor_symmetric)
from ..._torch_names import torch_path
from . import ObserverBase as _ObserverBase

__all__ = ['ObserverBase', 'UniformQuantizationObserverBase', 'MinMaxObserver', 'MovingAverageMinMaxObserver',
           'PerChannelMinMaxObserver', 'MovingAveragePerChannelMinMaxObserver', 'HistogramObserver',
           'PlaceholderObserver',
           'default_observer', 'default_histogram_observer', 'default_weight_observer',
           'default_dynamic_quant_observer',
           'default_per_channel_weight_observer', 'default_placeholder_observer', 'default_float_qparams_observer',
           'get_observer_state_dict', 'load_observer_state_dict']
_EPS = 1.1920928955078125e-07    # torch.finfo(torch.float32).eps
_PER_TENSOR = (per_tensor_affine, per_tensor_symmetric)
_PER_CHANNEL = (per_channel_affine, per_channel_symmetric, per_channel_affine_float_qparams)


class _PartialWrapper:
    """A constructor with arguments bound (``Observer.with_args(...)``); prints as PyTorch's, the class under its
    torch path."""

    def __init__(self, p):
        self.p = p
        self.callable_args = {}

    def __call__(self, *args, **keywords):
        for name, make in self.callable_args.items():
            keywords.setdefault(name, make())
        return self.p(*args, **keywords)

    def __repr__(self):
        kw = ''.join(f', {k}={v!r}' for k, v in self.p.keywords.items())
        args = ''.join(f', {a!r}' for a in self.p.args)
        f = self.p.func
        name = f"<class '{torch_path(f)}'>" if isinstance(f, type) else repr(f)
        return f'functools.partial({name}{args}{kw})' + repr(self.callable_args)

    def with_args(self, **kwargs):
        return _with_args(self, **kwargs)

    def with_callable_args(self, **kwargs):
        out = _PartialWrapper(self.p)
        out.callable_args = {**self.callable_args, **kwargs}
        return out


def _with_args(cls_or_self, **kwargs):
    """A factory of ``cls_or_self`` with ``kwargs`` bound: each call makes a new instance."""
    return _PartialWrapper(functools.partial(cls_or_self, **kwargs))


def _with_callable_args(cls_or_self, **kwargs):
    """A factory whose ``kwargs`` are callables evaluated at each construction."""
    return _PartialWrapper(functools.partial(cls_or_self)).with_callable_args(**kwargs)


_ObserverBase.with_args = classmethod(_with_args)
_ObserverBase.with_callable_args = classmethod(_with_callable_args)
ObserverBase = _ObserverBase     # (one class: torch.ao.quantization.ObserverBase is observer.ObserverBase)

_ALLOWED = ('qint8', 'quint8', 'quint4x2', 'qint32', 'int8', 'uint8', 'int16', 'int32', 'float8_e5m2',
            'float8_e4m3fn', 'uint16')


def calculate_qmin_qmax(quant_min, quant_max, customized, dtype, reduce_range):
    """The integer range of ``dtype`` (halved by ``reduce_range``), or the user's."""
    name = dtype.name
    if customized:
        span = quant_max - quant_min + 1
        if name in ('qint8', 'int8') and not 0 < span <= 256:
            raise AssertionError('quantization range should be positive and not exceed the maximum bit range (=256).')
        if name in ('qint32', 'int32') and not 0 < span <= 2 ** 32:
            raise AssertionError('quantization range should be positive and not exceed the maximum bit range '
                                 '(=4294967296).')
        return (quant_min // 2, quant_max // 2) if reduce_range else (quant_min, quant_max)
    if name in ('qint8', 'int8'):
        return (-64, 63) if reduce_range else (-128, 127)
    if name in ('quint8', 'uint8'):
        return (0, 127) if reduce_range else (0, 255)
    return {'qint32': (-2 ** 31, 2 ** 31 - 1), 'int32': (-2 ** 31, 2 ** 31 - 1), 'uint16': (0, 2 ** 16 - 1),
            'int16': (-2 ** 15, 2 ** 15 - 1)}.get(name, (0, 15))


def _check_min_max(min_val, max_val):
    """Whether the observer has seen data (PyTorch warns and gives default qparams when not)."""
    if min_val.numel() == 0 or max_val.numel() == 0 or (
            min_val.dim() == 0 and float(min_val) == float('inf') and float(max_val) == float('-inf')):
        warnings.warn('must run observer before calling calculate_qparams. Returning default values.', stacklevel=3)
        return False
    if min_val.dim() == 0:
        if float(min_val) > float(max_val):
            raise AssertionError(f'min {min_val} should be less than max {max_val}')
    elif bool((min_val > max_val).any()):
        raise AssertionError(f'min {min_val} should be less than max {max_val}')
    return True


class UniformQuantizationObserverBase(ObserverBase):
    """Observers of an affine or symmetric integer grid: dtype, qscheme, range and ``eps`` (the smallest scale)."""
    _version = 3

    def __init__(self, dtype=_dtype.quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        from ... import tensor
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.qscheme = qscheme
        if reduce_range:
            warnings.warn('Please use quant_min and quant_max to specify the range for observers.                     '
                          'reduce_range will be deprecated in a future release of PyTorch.', stacklevel=2)
        self.reduce_range = reduce_range
        self.register_buffer('eps', tensor([eps], **(factory_kwargs or {})))
        if qscheme not in _PER_TENSOR + _PER_CHANNEL:
            raise AssertionError('Default Observer only works for per_tensor_affine, per_tensor_symmetric, '
                                 'per_channel_affine, per_channel_symmetric and per_channel_float_qparams '
                                 'quantization scheme')
        if getattr(dtype, 'name', None) not in _ALLOWED:
            raise AssertionError('Default Observer only works for (torch.qint8, torch.quint8, torch.quint4x2, '
                                 'torch.qint32, torch.int8, torch.uint8, torch.int16, torch.int32, '
                                 'torch.float8_e5m2, torch.float8_e4m3fn, torch.uint16) data type')
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            if not quant_min <= 0 <= quant_max:
                raise AssertionError('Used-specified quantization range must include 0.')
            if quant_min >= quant_max:
                raise AssertionError('qmin must be strictly less than qmax for user-specified quantization range.')
        self.quant_min, self.quant_max = calculate_qmin_qmax(quant_min, quant_max, self.has_customized_qrange,
                                                             dtype, reduce_range)

    def _calculate_qparams(self, min_val, max_val):
        """(scale float32, zero_point int64) tensors of shape (channels,) from the observed range."""
        import ember
        if not _check_min_max(min_val, max_val):
            return ember.tensor([1.0]), ember.tensor([0])
        qmin, qmax = self.quant_min, self.quant_max
        lo = ember.min(min_val, ember.zeros_like(min_val))
        hi = ember.max(max_val, ember.zeros_like(max_val))
        zp = ember.zeros(lo.size(), dtype=ember.int64)
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            hi = ember.max(-lo, hi)
            scale = ember.max(hi / (float(qmax - qmin) / 2), self.eps)
            if self.dtype.name in ('quint8', 'uint8'):
                zp = zp.new_full(zp.size(), (qmin + qmax) // 2 if self.has_customized_qrange else 128)
            elif self.dtype.name == 'uint16':
                zp = zp.new_full(zp.size(), 2 ** 15)
        elif self.qscheme is per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(qmax - qmin)
            scale = ember.where(scale > self.eps, scale, ember.ones_like(scale))
            zp = -1 * min_val / scale
        else:
            scale = ember.max((hi - lo) / float(qmax - qmin), self.eps)
            zp = ember.clamp(qmin - ember.round(lo / scale).to(ember.int), qmin, qmax)
        if scale.dim() == 0:
            scale = ember.tensor([float(scale)], dtype=scale.dtype)
        if zp.dim() == 0:
            zp = ember.tensor([int(zp)], dtype=zp.dtype)
        return scale, zp

    def reset_min_max_vals(self):
        raise NotImplementedError('Cannot reset min/max values in the given observer.')


class MinMaxObserver(UniformQuantizationObserverBase):
    """Records the running minimum and maximum of what it sees (per tensor)."""

    def __init__(self, dtype=_dtype.quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        from ... import tensor
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError("MinMaxObserver's qscheme only support torch.per_tensor_symmetric "
                                      '                    and torch.per_tensor_affine.')
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.register_buffer('min_val', tensor(float('inf'), **(factory_kwargs or {})))
        self.register_buffer('max_val', tensor(float('-inf'), **(factory_kwargs or {})))
        if qscheme is per_tensor_symmetric and reduce_range and dtype is _dtype.quint8:
            raise NotImplementedError('Cannot reduce range for symmetric                                        '
                                      'quantization for quint8')

    def forward(self, x_orig):
        import ember
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        lo, hi = ember.aminmax(x)
        self.min_val.copy_(ember.min(lo, self.min_val))
        self.max_val.copy_(ember.max(hi, self.max_val))
        return x_orig

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f'min_val={self.min_val}, max_val={self.max_val}'

    def reset_min_max_vals(self):
        import ember
        self.min_val.copy_(ember.tensor(float('inf')))
        self.max_val.copy_(ember.tensor(float('-inf')))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """A running average (weight ``averaging_constant``) of each batch's minimum and maximum."""

    def __init__(self, averaging_constant=0.01, dtype=_dtype.quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError("MovingAverageMinMaxObserver's qscheme only support                 "
                                      'torch.per_tensor_symmetric and torch.per_tensor_affine.                 '
                                      f'but got: {qscheme}')
        self.averaging_constant = averaging_constant
        if is_dynamic and averaging_constant != 1:
            raise NotImplementedError("MovingAverageMinMaxObserver doesn't support dynamic quantization for "
                                      f'averaging constant of {averaging_constant}')
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)

    def forward(self, x_orig):
        import ember
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        lo, hi = self.min_val, self.max_val
        cur_lo, cur_hi = ember.aminmax(x)
        if float(lo) == float('inf') and float(hi) == float('-inf'):
            lo, hi = cur_lo, cur_hi
        else:
            lo = lo + self.averaging_constant * (cur_lo - lo)
            hi = hi + self.averaging_constant * (cur_hi - hi)
        self.min_val.copy_(lo)
        self.max_val.copy_(hi)
        return x_orig


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """The running minimum and maximum of each index of dimension ``ch_axis``."""

    def __init__(self, ch_axis=0, dtype=_dtype.quint8, qscheme=per_channel_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        from ... import tensor
        if qscheme not in _PER_CHANNEL:
            raise NotImplementedError("PerChannelMinMaxObserver's qscheme only support                     "
                                      'torch.per_channel_symmetric, torch.per_channel_affine and '
                                      'torch.per_channel_affine_float_qparams.')
        if is_dynamic:
            raise NotImplementedError("PerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer('min_val', tensor([], **(factory_kwargs or {})))
        self.register_buffer('max_val', tensor([], **(factory_kwargs or {})))
        if qscheme is per_channel_symmetric and reduce_range and dtype is _dtype.quint8:
            raise NotImplementedError('Cannot reduce range for symmetric quantization for quint8')

    def _rows(self, x_orig):
        """The input with ``ch_axis`` first, flattened to (channels, rest)."""
        x = x_orig.detach()
        order = list(range(x.dim()))
        order[self.ch_axis], order[0] = 0, self.ch_axis
        return x.permute(order).to(self.min_val.dtype).flatten(start_dim=1)

    def _store(self, lo, hi):
        with _no_grad():
            self.min_val.resize_(lo.shape)
            self.max_val.resize_(hi.shape)
            self.min_val.copy_(lo)
            self.max_val.copy_(hi)

    def forward(self, x_orig):
        import ember
        if x_orig.numel() == 0:
            return x_orig
        lo, hi = ember.aminmax(self._rows(x_orig), dim=1)
        if self.min_val.numel() and self.max_val.numel():
            lo, hi = ember.min(lo, self.min_val), ember.max(hi, self.max_val)
        self._store(lo, hi)
        return x_orig

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f'min_val={self.min_val}, max_val={self.max_val}'

    def reset_min_max_vals(self):
        import ember
        self.min_val = ember.rand(0)
        self.max_val = ember.rand(0)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """A running average of each channel's minimum and maximum."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=_dtype.quint8, qscheme=per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        if qscheme not in _PER_CHANNEL:
            raise NotImplementedError("MovingAveragePerChannelMinMaxObserver's qscheme only support "
                                      '                    torch.per_channel_symmetric, torch.per_channel_affine and '
                                      'torch.per_channel_affine_float_qparams.')
        if is_dynamic:
            raise NotImplementedError("MovingAveragePerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x_orig):
        import ember
        if x_orig.numel() == 0:
            return x_orig
        cur_lo, cur_hi = ember.aminmax(self._rows(x_orig), dim=1)
        lo, hi = self.min_val, self.max_val
        if lo.numel() == 0 or hi.numel() == 0:
            lo, hi = cur_lo, cur_hi
        else:
            lo = lo + self.averaging_constant * (cur_lo - lo)
            hi = hi + self.averaging_constant * (cur_hi - hi)
        self._store(lo, hi)
        return x_orig


class HistogramObserver(UniformQuantizationObserverBase):
    """Keeps a ``bins``-bin histogram of everything seen (rebinned over the growing range through a 16-times finer
    grid) and picks the range whose 256-level quantization has the least L2 error (PyTorch's search, op for op on
    float32 tensors, so the qparams are its bits)."""

    def __init__(self, bins=2048, dtype=_dtype.quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        import ember
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError("HistogramObserver's qscheme only support torch.per_tensor_symmetric "
                                      '                    and torch.per_tensor_affine.')
        if is_dynamic:
            raise NotImplementedError("HistogramObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.bins = bins
        self.register_buffer('histogram', ember.zeros(bins, **(factory_kwargs or {})))
        self.register_buffer('min_val', ember.tensor(float('inf'), **(factory_kwargs or {})))
        self.register_buffer('max_val', ember.tensor(float('-inf'), **(factory_kwargs or {})))
        self.dst_nbins = 2 ** (32 if dtype.name in ('qint32', 'int32') else 8)
        self.upsample_rate = 16

    # -- recording ---------------------------------------------------------------------------------------------
    def _set(self, name, value):
        buf = getattr(self, name)
        buf.detach_().resize_(value.shape)
        buf.copy_(value)

    def _rebinned(self, hist, lo, hi, new_lo, new_hi):
        """``hist`` over [lo, hi] moved onto ``bins`` bins over [new_lo, new_hi]: each bin split into
        ``upsample_rate`` equal parts, each part counted in the new bin holding its midpoint."""
        import ember
        n = self.bins * self.upsample_rate
        parts = hist.repeat_interleave(self.upsample_rate) / self.upsample_rate
        width = (hi - lo) / n
        mids = ember.linspace(lo, hi, n + 1)[:-1] + 0.5 * width
        edges = ember.linspace(new_lo, new_hi, self.bins + 1)
        where = (ember.bucketize(mids, edges, right=True) - 1).clamp(0, self.bins - 1)
        return ember.bincount(where, weights=parts, minlength=self.bins)

    def _merged(self, update, new_lo, new_hi):
        import ember
        lo, hi = self.min_val, self.max_val
        if float(lo) == float(hi):    # a one-point histogram: its count lands in one new bin
            return ember.histc(lo, bins=self.bins, min=new_lo, max=new_hi) * ember.sum(self.histogram) + update
        return update + self._rebinned(self.histogram, lo, hi, new_lo, new_hi)

    def reset_histogram(self, x, min_val, max_val):
        import ember
        self._set('min_val', min_val)
        self._set('max_val', max_val)
        self._set('histogram', ember.histc(x, self.bins, min=min_val, max=max_val))

    def forward(self, x_orig):
        import ember
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        lo, hi = ember.aminmax(x)
        if float(lo) == float('-inf') or float(hi) == float('inf'):
            warnings.warn('torch.inf detected in input tensor, ignoring input', stacklevel=2)
            x = x[x.abs() != float('inf')]
            if x.numel() == 0:
                return x_orig
            lo, hi = ember.aminmax(x)
        if float(self.min_val) == float('inf') or float(self.max_val) == float('-inf'):
            self.reset_histogram(x, lo, hi)
            return x_orig
        new_lo = ember.min(self.min_val, lo).detach()
        new_hi = ember.max(self.max_val, hi).detach()
        update = ember.histc(x, self.bins, min=new_lo, max=new_hi)
        if float(new_lo) == float(self.min_val) and float(new_hi) == float(self.max_val):
            self._set('histogram', self.histogram + update)
        else:
            self._set('histogram', self._merged(update, new_lo, new_hi))
            self._set('min_val', new_lo)
            self._set('max_val', new_hi)
        return x_orig

    # -- the range search --------------------------------------------------------------------------------------
    def _get_norm(self, delta_begin, delta_end, density):
        """The integral of density * x^2 over [delta_begin, delta_end]."""
        return density * ((delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin) / 3)

    def _compute_quantization_error(self, next_start_bin, next_end_bin):
        """The L2 error of quantizing the histogram to ``dst_nbins`` levels over bins [start, end]."""
        import ember
        width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst = width * (next_end_bin - next_start_bin + 1) / self.dst_nbins
        if dst == 0.0:
            return 0.0
        begin = (ember.arange(self.bins) - next_start_bin) * width
        end = begin + width
        first = ember.clamp(ember.div(begin, dst, rounding_mode='floor'), 0, self.dst_nbins - 1)
        last = ember.clamp(ember.div(end, dst, rounding_mode='floor'), 0, self.dst_nbins - 1)
        density = self.histogram / width
        norm = ember.zeros(self.bins)
        norm += self._get_norm(begin - (first + 0.5) * dst, ember.ones(self.bins) * (dst / 2), density)
        norm += (last - first - 1) * self._get_norm(ember.tensor(-dst / 2), ember.tensor(dst / 2), density)
        norm += self._get_norm(ember.tensor(-dst / 2), end - (last * dst + dst / 2), density)
        return norm.sum().item()

    def _non_linear_param_search(self):
        """The [min, max] sub-range of the histogram with the least quantization error: the range shrinks from
        whichever end drops more bins per 1e-5 of the mass, until the error grows."""
        import ember
        if self.histogram.size()[0] != self.bins:
            raise AssertionError('bins mismatch')
        width = (self.max_val - self.min_val) / self.bins
        total = ember.sum(self.histogram).item()
        csum = ember.cumsum(self.histogram, dim=0).tolist()
        alpha, beta, start, end, best = 0.0, 1.0, 0, self.bins - 1, float('inf')
        while alpha < beta:
            next_alpha, next_beta = alpha + 1e-5, beta - 1e-5
            left, right = start, end
            while left < end and csum[left] < next_alpha * total:
                left += 1
            while right > start and csum[right] > next_beta * total:
                right -= 1
            new_start, new_end = start, end
            if left - start > end - right:
                new_start, alpha = left, next_alpha
            else:
                new_end, beta = right, next_beta
            if (new_start, new_end) == (start, end):
                continue
            norm = self._compute_quantization_error(new_start, new_end)
            if norm > best:
                break
            best, start, end = norm, new_start, new_end
        return self.min_val + width * start, self.min_val + width * (end + 1)

    def calculate_qparams(self):
        import ember
        if float(self.min_val) == float('inf') and float(self.max_val) == float('-inf'):
            warnings.warn('must run observer before calling calculate_qparams.                                    '
                          'Returning default scale and zero point ', stacklevel=2)
            return ember.tensor([1.0]), ember.tensor([0])
        if self.bins != len(self.histogram):
            raise AssertionError('The number of bins in histogram should be equal to the number of bins supplied '
                                 'while making this observer')
        return self._calculate_qparams(*self._non_linear_param_search())

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'min_val'] = self.min_val
        destination[prefix + 'max_val'] = self.max_val

    def extra_repr(self):
        return f'min_val={self.min_val}, max_val={self.max_val}'


class PlaceholderObserver(ObserverBase):
    """Observes nothing: carries the dtype (and, for dynamic quantization, ``is_dynamic``) a qconfig asks for."""

    def __init__(self, dtype=_dtype.float32, custom_op_name='', compute_dtype=None, quant_min=None, quant_max=None,
                 qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = per_tensor_affine if qscheme is None else qscheme
        self.quant_min, self.quant_max = quant_min, quant_max
        self.eps = _EPS if eps is None else eps
        self.custom_op = custom_op_name
        if compute_dtype:
            warnings.warn('Please use `is_dynamic` instead of `compute_dtype`.                     `compute_dtype` '
                          'will be deprecated in a future release                     of PyTorch.', stacklevel=2)

    def forward(self, x):
        return x

    def extra_repr(self):
        return f'dtype={self.dtype}, is_dynamic={self.is_dynamic}'

    def calculate_qparams(self):
        raise Exception('calculate_qparams should not be called for PlaceholderObserver')  # noqa: TRY002 (PyTorch's)


def _no_grad():
    from ...autograd.grad_mode import no_grad
    return no_grad()


def get_observer_state_dict(mod):
    """The observers' entries of ``mod``'s state_dict."""
    import collections
    return collections.OrderedDict((k, v) for k, v in mod.state_dict().items() if 'activation_post_process' in k)


def load_observer_state_dict(mod, obs_dict):
    """Load observer entries into ``mod``'s observers."""
    missing, unexpected = [], []
    for name, module in mod.named_modules():
        prefix = name + '.'
        if 'activation_post_process' in name or isinstance(module, ObserverBase):
            module._load_from_state_dict(obs_dict, prefix, {}, False, missing, unexpected, [])
    for k in missing:
        if 'observer_enabled' not in k and 'fake_quant_enabled' not in k:
            raise Exception(f'Missing keys for observer {k} in state_dict')  # noqa: TRY002 (PyTorch's)
    for k in unexpected:
        if 'observer_enabled' not in k and 'fake_quant_enabled' not in k:
            raise Exception(f'Unexpected keys for observer {k} in state_dict')  # noqa: TRY002 (PyTorch's)


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
default_weight_observer = MinMaxObserver.with_args(dtype=_dtype.qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=_dtype.qint8,
                                                                         qscheme=per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=_dtype.quint8, quant_min=0, quant_max=255,
                                                               is_dynamic=True)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(dtype=_dtype.quint8,
                                                                    qscheme=per_channel_affine_float_qparams,
                                                                    ch_axis=0)
