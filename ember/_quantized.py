"""Quantized tensors (``torch.quantize_per_tensor``, ``quantize_per_channel``, ``quantize_per_tensor_dynamic``):
integers on an affine grid, ``real = (q - zero_point) * scale``, of dtype qint8 / quint8 / qint32, with PyTorch's
rounding (its kernels' float32 ``nearbyint(x * (1 / scale) + zero_point)``, ties to even: ``quantize_array``),
clamping, qparams accessors, repr and pickling. PyTorch's QuantizedCPU backend has few kernels; ember builds the
accessors, the layout ops (reshape, view, transpose, indexing, clone) of per-tensor ones and ``dequantize``: any
other op refuses with PyTorch's "Could not run 'aten::...' with arguments from the 'QuantizedCPU' backend" error."""
import copy

import numpy as np

from . import _dtype
from ._dtype import qint8, quint8, qint32, scalar_name
from ._torch_function import _disabled_torch_function_impl
from ._torch_names import TorchNamedType
from ._warn import warn_user
from .ops._util import arg_error, combination_error
from .tensor import CPU, Size, Tensor, _wrap_dim

# quantized dtype -> (qmin, qmax, NumPy storage, PyTorch's C++ name)
RANGES = {qint8: (-128, 127, np.int8, 'QInt8'), quint8: (0, 255, np.uint8, 'QUInt8'),
          qint32: (-2 ** 31, 2 ** 31 - 1, np.int32, 'QInt32')}
_DEPRECATED = ('torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor creation functions '
               'that produce tensors with dtype torch.quint8, torch.qint8, and torch.qint32 are deprecated and will be '
               'removed in a future PyTorch release. Please see https://github.com/pytorch/pytorch/issues/184982 for '
               'more information.')
_NO_EMPTY = 'empty_strided not supported on quantized tensors yet see https://github.com/pytorch/pytorch/issues/74540'


class qscheme(metaclass=TorchNamedType):
    """``torch.qscheme``: how a quantized tensor maps integers to reals; prints as ``torch.per_tensor_affine``."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name

    def __reduce__(self):
        return (_qscheme_by_name, (self.name,))


SCHEMES = {n: qscheme(n) for n in ('per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric',
                                   'per_channel_symmetric', 'per_channel_affine_float_qparams')}
per_tensor_affine, per_channel_affine = SCHEMES['per_tensor_affine'], SCHEMES['per_channel_affine']
per_tensor_symmetric, per_channel_symmetric = SCHEMES['per_tensor_symmetric'], SCHEMES['per_channel_symmetric']
per_channel_affine_float_qparams = SCHEMES['per_channel_affine_float_qparams']


def _qscheme_by_name(name):
    return SCHEMES[name]


def no_kernel(op, backend='QuantizedCPU'):
    """PyTorch's dispatcher error for an op with no kernel for ``backend`` (the first sentences of it)."""
    return NotImplementedError(
        f"Could not run 'aten::{op}' with arguments from the '{backend}' backend. This could be because the operator "
        "doesn't exist for this backend, or was omitted during the selective/custom build process (if using custom "
        f"build). (ember's quantized tensors have dequantize, int_repr, the qparams accessors and, per tensor, "
        "reshape/view/transpose/permute/indexing/clone; call .dequantize() for anything else)")


def _check_per_tensor(t):
    if t._qscheme is not per_tensor_affine:
        raise RuntimeError('Expected quantizer->qscheme() == kPerTensorAffine to be true, but got false.  (Could this '
                           'error message be improved?  If so, please report an enhancement request to PyTorch.)')


def _check_per_channel(t):
    if not isinstance(t, QTensor):
        raise no_kernel('q_per_channel_scales', 'CPU')
    if t._qscheme is not per_channel_affine:
        raise RuntimeError('Expected quantizer->qscheme() == kPerChannelAffine || quantizer->qscheme() == '
                           'kPerChannelAffineFloatQParams to be true, but got false.  (Could this error message be '
                           'improved?  If so, please report an enhancement request to PyTorch.)')


class QTensor(Tensor):
    """A quantized tensor: ``_int`` (the integers, an int8/uint8/int32 ndarray), ``_qdtype``, ``_qscheme``, and
    ``_scale`` / ``_zp`` (a float and an int per tensor; float64 and int64 arrays per channel along ``_axis``).
    ``_data`` refuses: an op that reads it has no quantized kernel."""
    __slots__ = ('_int', '_qdtype', '_qscheme', '_scale', '_zp', '_axis')
    __torch_function__ = _disabled_torch_function_impl
    is_quantized = True

    @property
    def _data(self):
        raise NotImplementedError("ember has no kernel of this op for quantized tensors (PyTorch's QuantizedCPU "
                                  "backend has few); call .dequantize() first")

    # -- metadata ----------------------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple.__new__(Size, self._int.shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._int.shape)
        return self._int.shape[_wrap_dim(dim, self._int.ndim, 'size', scalar=False)]

    @property
    def dtype(self):
        return self._qdtype

    @property
    def device(self):
        return CPU

    is_cpu, is_meta = True, False

    def dim(self):
        return self._int.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._int.ndim

    def numel(self):
        return self._int.size

    nelement = numel

    def element_size(self):
        return self._int.itemsize

    def stride(self, dim=None):
        return Tensor._make(self._int).stride(dim)

    def is_contiguous(self, memory_format=None):
        return self._int.flags.c_contiguous

    def is_floating_point(self):
        return False

    def is_complex(self):
        return False

    def __len__(self):
        if not self._int.ndim:
            raise TypeError('len() of a 0-d tensor')
        return self._int.shape[0]

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f'torch.quantized.{RANGES[self._qdtype][3]}Tensor'
        return self.to(dtype)

    # -- the quantization ------------------------------------------------------------------------------
    def qscheme(self):
        return self._qscheme

    def q_scale(self):
        _check_per_tensor(self)
        return self._scale

    def q_zero_point(self):
        _check_per_tensor(self)
        return self._zp

    def q_per_channel_scales(self):
        _check_per_channel(self)
        return Tensor._make(self._scale.copy())

    def q_per_channel_zero_points(self):
        _check_per_channel(self)
        return Tensor._make(self._zp.copy())

    def q_per_channel_axis(self):
        _check_per_channel(self)
        return self._axis

    def int_repr(self):
        return Tensor._make(self._int.copy())

    def dequantize(self):
        return Tensor._make(_dequantized(self))

    # -- what PyTorch's QuantizedCPU backend does ----------------------------------------------------------
    def clone(self, memory_format=None):
        return _like(self, self._int.copy())

    def detach(self):
        return _like(self, self._int)

    def contiguous(self, memory_format=None):
        return self if self._int.flags.c_contiguous else _like(self, np.ascontiguousarray(self._int))

    def reshape(self, *shape):
        return _layout(self, 'reshape', lambda a: a.reshape(*shape))

    def view(self, *shape):
        return _layout(self, 'view', lambda a: a.reshape(*shape))

    def flatten(self, start_dim=0, end_dim=-1):
        return _layout(self, 'flatten', lambda a: Tensor._make(a).flatten(start_dim, end_dim)._data)

    def transpose(self, dim0, dim1):
        return _layout(self, 'transpose', lambda a: Tensor._make(a).transpose(dim0, dim1)._data)

    def permute(self, *dims):
        return _layout(self, 'permute', lambda a: Tensor._make(a).permute(*dims)._data)

    def t(self):
        return _layout(self, 't', lambda a: Tensor._make(a).t()._data)

    def squeeze(self, *dim):
        return _layout(self, 'squeeze', lambda a: Tensor._make(a).squeeze(*dim)._data)

    def unsqueeze(self, dim):
        return _layout(self, 'unsqueeze', lambda a: Tensor._make(a).unsqueeze(dim)._data)

    def __getitem__(self, index):
        return _layout(self, 'index', lambda a: Tensor._make(a)[index]._data)

    def relu(self):
        """max(q, zero_point) with the qparams kept (PyTorch's quantized relu)."""
        return _like(self, np.maximum(self._int, self._zp_grid()).astype(self._int.dtype))

    def relu_(self):
        self._int = np.maximum(self._int, self._zp_grid()).astype(self._int.dtype)
        return self

    def _zp_grid(self):
        if self._qscheme is per_tensor_affine:
            return self._zp
        shape = [1] * self._int.ndim
        shape[self._axis] = -1
        return self._zp.reshape(shape)

    @property
    def T(self):
        return _layout(self, 'numpy_T', lambda a: a.T)

    @property
    def data(self):
        return self.detach()

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise RuntimeError('only Tensors of floating point dtype can require gradients')
        return self

    def to(self, *args, **kwargs):
        dt = kwargs.get('dtype', next((a for a in args if isinstance(a, _dtype.dtype)), None))
        if dt is None or dt is self._qdtype:
            return self
        raise RuntimeError('Creation of quantized tensor requires quantized dtype like torch.quint8')

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    double = half = bfloat16 = int = long = short = char = byte = bool = float

    def numpy(self, *, force=False):
        raise TypeError(f'Got unsupported ScalarType {RANGES[self._qdtype][3]}')

    def tolist(self):
        raise RuntimeError('load_scalar: invalid type')

    def item(self):
        if self._int.size != 1:
            raise RuntimeError(f'a Tensor with {self._int.size} elements cannot be converted to Scalar')
        return float(_dequantized(self).reshape(-1)[0])

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import quantized_repr
        return quantized_repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._int, self._qdtype, self._qscheme, self._scale, self._zp, self._axis))

    def __deepcopy__(self, memo):
        return _like(self, self._int.copy(), copy.deepcopy(self._scale), copy.deepcopy(self._zp))


def _refuse_binary(self, *args, **kwargs):
    raise RuntimeError(_NO_EMPTY)


def _refuser(name):
    def refuse(self, *args, **kwargs):
        raise no_kernel(name)
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


for _name in ('__add__', '__radd__', '__sub__', '__rsub__', '__mul__', '__rmul__', '__truediv__', '__rtruediv__',
              '__floordiv__', '__mod__', '__pow__', '__matmul__', '__rmatmul__', '__iadd__', '__isub__', '__imul__',
              '__itruediv__', '__and__', '__or__', '__xor__'):
    setattr(QTensor, _name, _refuse_binary)
for _name, _value in list(vars(Tensor).items()):
    if not _name.startswith('_') and callable(_value) and _name not in vars(QTensor):
        setattr(QTensor, _name, _refuser(_name))
for _name in ('__neg__', '__abs__', '__invert__', '__bool__', '__float__', '__int__', '__index__', '__array__',
              '__lt__', '__le__', '__gt__', '__ge__', '__eq__', '__ne__'):
    setattr(QTensor, _name, _refuser(_name.strip('_')))
QTensor.__hash__ = Tensor.__hash__


def make(ints, qdtype, scheme, scale, zero_point, axis=None):
    """A QTensor of integers ``ints`` (the storage dtype of ``qdtype``)."""
    t = object.__new__(QTensor)
    t._int, t._qdtype, t._qscheme, t._scale, t._zp, t._axis = ints, qdtype, scheme, scale, zero_point, axis
    t._requires_grad, t._grad, t.grad_fn, t._lay = False, None, None, None
    return t


def _like(t, ints, scale=None, zero_point=None):
    return make(ints, t._qdtype, t._qscheme, t._scale if scale is None else scale,
                t._zp if zero_point is None else zero_point, t._axis)


def _layout(t, op, fn):
    """A layout op (the integers rearranged, the qparams kept) of a per-tensor quantized tensor."""
    if t._qscheme is not per_tensor_affine:
        raise RuntimeError(f'ember moves per-channel quantized tensors by clone/detach/contiguous only, not {op}; '
                           'dequantize first')
    return _like(t, fn(t._int))


def _rebuild(ints, qdtype, scheme, scale, zero_point, axis):
    return make(ints, qdtype, scheme, scale, zero_point, axis)


def _dequantized(t):
    """float32 (q - zero_point) * scale, per tensor or along the channel axis."""
    if t._qscheme is per_tensor_affine:
        return (t._int.astype(np.float32) - np.float32(t._zp)) * np.float32(t._scale)
    shape = [1] * t._int.ndim
    shape[t._axis] = -1
    return ((t._int - t._zp.reshape(shape)) * t._scale.reshape(shape)).astype(np.float32)   # (float64, as PyTorch's)


def quantize_array(a, scale, zero_point, qdtype, fused=False):
    """float32 array ``a`` on the grid: ``nearbyint(a * (1 / scale) + zero_point)`` in float32, clamped to
    ``qdtype``'s range. ``fused``: the multiply-add rounded once (fbgemm's 8-bit per-tensor kernel is an FMA; the
    float64 product of two float32s is exact, so rounding it plus zero_point once to float32 is the FMA's result),
    else each step rounded (PyTorch's qint32 and per-channel kernels). Each matched PyTorch's on 200000 values.
    ``scale``/``zero_point``: numbers, or arrays broadcasting against ``a``."""
    lo, hi, store, _ = RANGES[qdtype]
    with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
        inv = np.float32(1.0) / np.asarray(scale, dtype=np.float32)
        if fused:
            v = (a.astype(np.float64) * inv.astype(np.float64) + np.float64(zero_point)).astype(np.float32)
        else:
            v = a * inv + np.asarray(zero_point, dtype=np.float32)
        v = np.rint(v).astype(np.float64)
    return np.clip(v, lo, hi).astype(store)     # (clamped in float64: float32 has no 2**31 - 1)


def _check_float(t):
    if t.dtype is not _dtype.float32:
        raise RuntimeError(f'Quantize only works on Float Tensor, got {scalar_name(t.dtype)}')


def _check_qdtype(dt):
    if dt not in RANGES:
        raise RuntimeError(f'ScalarType {scalar_name(dt)} is not supported in new_qtensor.')


def _check_zero_point(zp, qdtype, what):
    lo, hi = RANGES[qdtype][:2]
    if zp > hi:
        raise RuntimeError(f'{what} zero_point {zp} is above upper bound.')
    if zp < lo:
        raise RuntimeError(f'{what} zero_point {zp} is below lower bound.')


def _number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def quantize_per_tensor(input, scale, zero_point, dtype):
    """``input`` (float32) quantized with one scale and zero point; a list of tensors with tensors of them."""
    args = (input, scale, zero_point, dtype)
    if not isinstance(dtype, _dtype.dtype):
        raise combination_error('quantize_per_tensor', args)
    if isinstance(input, (list, tuple)) and isinstance(scale, Tensor) and isinstance(zero_point, Tensor):
        _check_list(input)
        sc, zp = scale._data.reshape(-1), zero_point._data.reshape(-1)
        return [quantize_per_tensor(x, float(np.float32(s)), int(z), dtype) for x, s, z in zip(input, sc, zp)]
    if not isinstance(input, Tensor):
        raise combination_error('quantize_per_tensor', args)
    if isinstance(scale, Tensor) and isinstance(zero_point, Tensor):
        scale, zero_point = float(scale._data.reshape(-1)[0]), int(zero_point._data.reshape(-1)[0])
    elif not (_number(scale) and isinstance(zero_point, (int, np.integer)) and not isinstance(zero_point, bool)):
        raise combination_error('quantize_per_tensor', args)
    warn_user(_DEPRECATED, once=True, internally='aten/src/ATen/quantized/Quantizer.cpp:111')
    _check_qdtype(dtype)
    _check_float(input)
    zero_point = int(zero_point)
    _check_zero_point(zero_point, dtype, 'quantize_tensor_per_tensor_affine')
    ints = quantize_array(input._data, float(scale), zero_point, dtype, fused=dtype is not qint32)
    return make(ints, dtype, per_tensor_affine, float(scale), zero_point)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """``input`` (float32) quantized with a scale and zero point per index of dimension ``axis``."""
    for arg, pos, value in (('input', 1, input), ('scales', 2, scales), ('zero_points', 3, zero_points)):
        if not isinstance(value, Tensor):
            raise arg_error('quantize_per_channel', arg, pos, value)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise arg_error('quantize_per_channel', 'axis', 4, axis, 'int')
    if not isinstance(dtype, _dtype.dtype):
        raise arg_error('quantize_per_channel', 'dtype', 5, dtype, 'torch.dtype')
    warn_user(_DEPRECATED, once=True, internally='aten/src/ATen/quantized/Quantizer.cpp:111')
    _check_qdtype(dtype)
    _check_float(input)
    a = input._data
    if not 0 <= axis < a.ndim:
        raise RuntimeError(f'Channel axis out of range in per channel affine quantization. Got: {axis}'
                           f'Expected: [0, {a.ndim})')
    n = a.shape[axis]
    sc = scales._data.astype(np.float64).reshape(-1)
    zp = zero_points._data.astype(np.int64).reshape(-1)
    for what, v in (('scales', sc), ('zero_points', zp)):
        if v.size != n:
            raise RuntimeError(f'length of {what} must equal to channel, expected {n} got, {v.size}')
    for z in zp:
        _check_zero_point(int(z), dtype, 'quantize_tensor_per_channel_affine')
    shape = [1] * a.ndim
    shape[axis] = -1
    ints = quantize_array(a, sc.reshape(shape), zp.reshape(shape), dtype)
    return make(ints, dtype, per_channel_affine, sc, zp, int(axis))


def choose_qparams(lo, hi, qmin, qmax, reduce_range=False):
    """PyTorch's ChooseQuantizationParams (no sparsity preservation): a float64 scale covering [min(lo, 0),
    max(hi, 0)] and the integer zero point nearest the exact one, from the end that gives the smaller error."""
    if reduce_range:
        qmin, qmax = int(qmin / 2), int(qmax / 2)
    lo, hi = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    scale = (float(hi) - float(lo)) / (qmax - qmin)
    with np.errstate(divide='ignore', over='ignore'):
        if np.float32(scale) == 0 or np.isinf(np.float32(1.0) / np.float32(scale)):
            scale = 0.1
    if scale < float(np.float32(6.1e-5)):
        small = float(np.float32(6.1e-5))
        if lo == 0:
            hi = np.float32(small * (qmax - qmin))
        elif hi == 0:
            lo = np.float32(-small * (qmax - qmin))
        else:
            amp = np.float32(small / np.float32(scale))
            lo, hi = lo * amp, hi * amp
        scale = small
    from_min, from_max = qmin - float(lo) / scale, qmax - float(hi) / scale
    err_min, err_max = abs(qmin) - abs(float(lo) / scale), abs(qmax) - abs(float(hi) / scale)
    zp = from_min if err_min < err_max else from_max
    zp = qmin if zp < qmin else qmax if zp > qmax else int(np.rint(zp))
    return scale, zp


def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """``input`` quantized per tensor with qparams chosen from its min and max (quint8 or qint8)."""
    if not isinstance(input, Tensor):
        raise arg_error('quantize_per_tensor_dynamic', 'input', 1, input)
    if not isinstance(dtype, _dtype.dtype):
        raise arg_error('quantize_per_tensor_dynamic', 'dtype', 2, dtype, 'torch.dtype')
    if dtype not in (qint8, quint8):
        raise RuntimeError(f'dtype {scalar_name(dtype)}not supported')
    _check_float(input)
    a = input._data
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    scale, zp = choose_qparams(lo, hi, *RANGES[dtype][:2], bool(reduce_range))
    return quantize_per_tensor(input, scale, zp, dtype)


def dequantize(tensor):
    """The float32 values of a quantized tensor (a float tensor as float32); of a list of tensors, a tuple."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise NotImplementedError('There were no tensor arguments to this function (e.g., you passed an empty '
                                      'list of Tensors), but no fallback function is registered for schema '
                                      'aten::dequantize.tensors.')
        _check_list(tensor)
        return tuple(dequantize(t) for t in tensor)
    if not isinstance(tensor, Tensor):
        raise combination_error('dequantize', (tensor,))
    return tensor.dequantize() if isinstance(tensor, QTensor) else tensor.to(_dtype.float32)


def _check_list(items):
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f'expected Tensor as element {i} in argument 0, but got {type(t).__name__}')
