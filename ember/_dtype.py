"""dtypes and PyTorch's type-promotion rules (float32 default, Python scalars are weak)."""
import numpy as np

from . import _bf16, _shell
from ._torch_names import TorchNamedType


class dtype(metaclass=TorchNamedType):
    """A tensor element type; prints as PyTorch prints it (``torch.float32``)."""
    __slots__ = ('name', 'np', 'is_floating_point', 'is_signed', 'itemsize', 'is_complex', '_cat')

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._cat = category            # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = category >= 2 or self.np.kind == 'i'
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return 'torch.' + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        """The real dtype of a complex one (complex64 -> float32); any other dtype itself."""
        return _TO_REAL.get(self, self)

    def to_complex(self):
        """The complex dtype of a floating one (float32 -> complex64); a complex dtype itself."""
        if self.is_complex:
            return self
        c = _TO_COMPLEX.get(self)
        if c is None:
            raise RuntimeError(f'Unknown Complex ScalarType for {scalar_name(self)}')
        return c


float16 = dtype('float16', np.float16, 2)
float32 = dtype('float32', np.float32, 2)
float64 = dtype('float64', np.float64, 2)
int8 = dtype('int8', np.int8, 1)
int16 = dtype('int16', np.int16, 1)
int32 = dtype('int32', np.int32, 1)
int64 = dtype('int64', np.int64, 1)
uint8 = dtype('uint8', np.uint8, 1)
uint16 = dtype('uint16', np.uint16, 1)
uint32 = dtype('uint32', np.uint32, 1)
uint64 = dtype('uint64', np.uint64, 1)
bool_ = dtype('bool', np.bool_, 0)
complex64 = dtype('complex64', np.complex64, 3)
complex128 = dtype('complex128', np.complex128, 3)
half, float, double = float16, float32, float64
cfloat, cdouble = complex64, complex128
_TO_REAL = {complex64: float32, complex128: float64}
_TO_COMPLEX = {float32: complex64, float64: complex128}


class _BFloat16(dtype):
    """torch.bfloat16: stored as float32 in the non-native byte order, values rounded to bf16 (``_bf16``);
    two bytes an element, as PyTorch counts them."""
    __slots__ = ()

    def __init__(self):
        super().__init__('bfloat16', _bf16.NP, 2)
        self.itemsize = 2


bfloat16 = _BFloat16()
_TO_COMPLEX[bfloat16] = complex64   # c10's toComplexType: BFloat16 has Float's range
short, int, long = int16, int32, int64


class _Unheld(dtype):
    """A dtype ember names but cannot hold: ``torch.float8_e4m3fn`` and kin (checkpoint loaders map file dtypes to
    them at import) and ``torch.complex32`` (kornia lists it among the dtypes it accepts); anything needing their
    NumPy storage raises NotImplementedError."""
    __slots__ = ('_instead',)

    def __init__(self, name, category=2, signed=True, itemsize=1, instead='torch.float32 or torch.bfloat16'):
        self.name, self._cat, self._instead = name, category, instead
        self.is_floating_point, self.is_complex, self.is_signed = category == 2, category == 3, signed
        self.itemsize = itemsize

    @property
    def np(self):
        """Refused: NumPy has no type of this width to store these in."""
        raise NotImplementedError(f"torch.{self.name} tensors are not supported by ember yet (NumPy has no "
                                  f"{self.name if self.is_complex else 'float8'} type to store them in); "
                                  f"convert to {self._instead}")

    def __reduce__(self):
        return (_unheld_by_name, (self.name,))


UNHELD = {n: _Unheld(n, signed=n != 'float8_e8m0fnu') for n in
          ('float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float8_e8m0fnu')}
float8_e4m3fn, float8_e5m2 = UNHELD['float8_e4m3fn'], UNHELD['float8_e5m2']
float8_e4m3fnuz, float8_e5m2fnuz = UNHELD['float8_e4m3fnuz'], UNHELD['float8_e5m2fnuz']
float8_e8m0fnu = UNHELD['float8_e8m0fnu']
complex32 = chalf = UNHELD['complex32'] = _Unheld('complex32', 3, itemsize=4, instead='torch.complex64')
_TO_REAL[complex32] = float16




class _Quantized(_Unheld):
    """``torch.qint8`` and the other quantized dtypes: named for the libraries that list dtypes at import
    (tensordict); ember has no quantized tensors, so making one refuses, and ``is_signed`` raises as PyTorch's."""
    __slots__ = ()

    def __init__(self, name, itemsize=1):
        self.name, self._cat, self._instead, self.itemsize = name, 1, 'torch.float32', itemsize
        self.is_floating_point = self.is_complex = False

    @property
    def np(self):
        """Refused: ember has no quantized tensors."""
        raise NotImplementedError(f"torch.{self.name} tensors are not supported by ember yet (it has no quantized "
                                  f"tensors); convert to {self._instead}")

    @property
    def is_signed(self):
        """Refused, as PyTorch's."""
        raise RuntimeError('isSignedType not supported for quantized types')


for _n, _size in (('qint8', 1), ('quint8', 1), ('qint32', 4), ('quint4x2', 1), ('quint2x4', 1)):
    UNHELD[_n] = _Quantized(_n, _size)
qint8, quint8, qint32 = UNHELD['qint8'], UNHELD['quint8'], UNHELD['qint32']
quint4x2, quint2x4 = UNHELD['quint4x2'], UNHELD['quint2x4']


def _unheld_by_name(name):
    return UNHELD[name]

class _SubByte(_Unheld):
    """PyTorch's sub-byte and bit-pattern dtypes (``torch.uint1``...``uint7``, ``int1``...``int7``, ``bits8`` and kin,
    ``float4_e2m1fn_x2``): named as PyTorch's, which holds no values of them on the CPU either (its copies refuse);
    ember refuses making a tensor of one. The bits types' ``is_signed`` raises as PyTorch's."""
    __slots__ = ('_signed',)

    def __init__(self, name, category, signed, itemsize=1):
        self.name, self._cat, self._signed, self.itemsize = name, category, signed, itemsize
        self.is_floating_point, self.is_complex = category == 2, False
        self._instead = 'torch.uint8 or torch.int8' if category == 1 else 'torch.float32 or torch.bfloat16'

    @property
    def np(self):
        """Refused: ember stores no sub-byte or bit-pattern elements."""
        raise NotImplementedError(f"torch.{self.name} tensors are not supported by ember (PyTorch's CPU kernels do "
                                  f"not copy into them either); convert to {self._instead}")

    @property
    def is_signed(self):
        """As PyTorch's: the integer widths answer, the bits types raise."""
        if self.name.startswith('bits'):
            raise RuntimeError('Bits types are undefined')
        return self._signed


SUB_BYTE = {f'{kind}{k}': _SubByte(f'{kind}{k}', 1, kind == 'int') for kind in ('uint', 'int') for k in range(1, 8)}
SUB_BYTE.update({n: _SubByte(n, 1, False, 2 if n == 'bits16' else 1)
                 for n in ('bits1x8', 'bits2x4', 'bits4x2', 'bits8', 'bits16')})
SUB_BYTE['float4_e2m1fn_x2'] = _SubByte('float4_e2m1fn_x2', 2, True)
UNHELD.update(SUB_BYTE)


ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_, complex64,
       complex128)
# PyTorch's "shell" dtypes (2.3+): few kernels, no promotion with other dtypes but the floating ones (``_shell``)
SHELL = frozenset((uint16, uint32, uint64))
SHELL_NP = frozenset(d.np for d in SHELL)
_NAMES = {d.name: d for d in ALL}
FROM_NP = {d.np: d for d in ALL}


def canonical(a):
    """NumPy array ``a``, or a view of it whose dtype is NumPy's own object for its type: an unpickled array (a
    DataLoader worker's batch, a pickled tensor or array) carries an equal but distinct dtype object, which ember's
    identity tests (``dtype is float32``) miss, so its float32 math skipped the paths that give PyTorch's values
    (tanh of a pickled array differed from PyTorch's in 2052 of 8192 values)."""
    c = FROM_NP.get(a.dtype)
    return a if c is None or c.np is a.dtype else a.view(c.np)


def _by_name(name):
    if _NAMES[name] in SHELL:
        _shell.arm()
    return _NAMES[name]


class _Default:
    """The default floating dtype (``torch.get_default_dtype``)."""
    dtype = float32
    np = float32.np


DEFAULT = _Default()


def get_default_dtype():
    return DEFAULT.dtype


def set_default_dtype(d):
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f'set_default_dtype: only floating-point dtypes can be the default, got {d!r}')
    DEFAULT.dtype, DEFAULT.np = d, d.np
    _RESULT.clear()


_SCALAR_NAMES = {'float16': 'Half', 'float32': 'Float', 'float64': 'Double', 'int8': 'Char', 'int16': 'Short',
                 'int32': 'Int', 'int64': 'Long', 'uint8': 'Byte', 'uint16': 'UInt16', 'uint32': 'UInt32',
                 'uint64': 'UInt64', 'bool': 'Bool', 'bfloat16': 'BFloat16',
                 'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble', 'qint8': 'QInt8', 'quint8': 'QUInt8',
                 'qint32': 'QInt32'}


_CPP_NAMES = {'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'float32': 'float', 'float64': 'double',
              'int8': 'signed char', 'int16': 'short int', 'int32': 'int', 'int64': 'long int', 'uint8': 'unsigned char',
              'uint16': 'short unsigned int', 'uint32': 'unsigned int', 'uint64': 'long unsigned int',
              'bool': 'bool', 'complex64': 'c10::complex<float>', 'complex128': 'c10::complex<double>'}


def cpp_name(dt):
    """The C++ type of a dtype as PyTorch's messages print it ('float', 'long int', 'c10::Half'): of an ember or
    NumPy dtype, or a dtype's name."""
    name = dt if isinstance(dt, str) else getattr(dt, 'name', None) or np.dtype(dt).name
    name = name.split('.')[-1]
    return _CPP_NAMES.get(name, name)


def scalar_name(dt):
    """PyTorch's C++ name of a dtype ('Float', 'Long', 'Bool'), as its kernel errors spell it: of an ember or
    NumPy dtype, or a dtype's name ('float32')."""
    name = dt if isinstance(dt, str) else getattr(dt, 'name', None) or np.dtype(dt).name
    return _SCALAR_NAMES.get(name, name)


# the scalar types PyTorch's type strings name by a legacy tensor class (torch.FloatTensor); the others by their
# CPU type (CPUBoolType, CPUBFloat16Type, CPUComplexFloatType)
_LEGACY_TYPES = frozenset(('Float', 'Double', 'Half', 'Long', 'Int', 'Short', 'Char', 'Byte'))


def type_string(dt):
    """PyTorch's type string of a CPU tensor of dtype ``dt`` as its argument checks and version errors print it:
    'torch.FloatTensor', 'torch.ByteTensor', 'CPUBoolType', 'CPUBFloat16Type'."""
    s = scalar_name(dt)
    return f'torch.{s}Tensor' if s in _LEGACY_TYPES else f'CPU{s}Type'


def tensor_type_name(dt):
    """``Tensor.type()`` of a CPU tensor of dtype ``dt``: 'torch.FloatTensor', 'torch.BoolTensor',
    'torch.ComplexFloatTensor' (every dtype has a legacy class name here)."""
    return f'torch.{scalar_name(dt)}Tensor'


def from_np(np_dtype):
    """ember dtype of a NumPy dtype; float64/int arrays keep their type as torch.from_numpy does."""
    try:
        d = FROM_NP[np_dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).type.__name__}. The only "
                        'supported types are: float64, float32, float16, complex64, complex128, int64, int32, int16, '
                        'int8, uint64, uint32, uint16, uint8, and bool.') from None
    if d in SHELL:
        _shell.arm()
    return d


def to_np(d):
    """NumPy dtype for a dtype-like argument (ember dtype, NumPy dtype, Python type or None)."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.np
    if d is builtins_float:
        return np.dtype(np.float64)
    if d is builtins_int:
        return np.dtype(np.int64)
    if d is builtins_bool:
        return np.dtype(np.bool_)
    if d is builtins_complex:
        return default_complex().np
    return from_np(np.dtype(d)).np


import builtins as _b
builtins_float, builtins_int, builtins_bool, builtins_complex = _b.float, _b.int, _b.bool, _b.complex


def default_complex():
    """The complex dtype of the default floating dtype (complex128 under float64, else complex64)."""
    return complex128 if DEFAULT.dtype is float64 else complex64


def promote_types(a, b):
    """torch.promote_types: like NumPy for same-kind pairs, but int with float gives the float."""
    if a is b:
        return a
    if (a in SHELL or b in SHELL) and not (a._cat == 2 or b._cat == 2):
        _shell.promotion(a, b)
    if a._cat == 3 or b._cat == 3:
        return _promote_complex(a, b)
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a is bfloat16 or b is bfloat16:   # with float16 or float32, float32; with float64, float64
        return float64 if float64 in (a, b) else float32
    return FROM_NP[np.promote_types(a.np, b.np)]


def _promote_complex(a, b):
    """promote_types when one side is complex: complex with the wider precision (complex64 with float64 gives
    complex128; with integers, bools and the half types, the complex side)."""
    prec = max((float64 if d in (float64, complex128) else float32 for d in (a, b)), key=lambda d: d.itemsize)
    return complex128 if prec is float64 else complex64


def _combine(higher, lower):
    # c10's combine_categories: a lower-priority operand only wins if it is of a higher kind.
    if higher is None:
        return lower
    if lower is None or higher._cat == 3:
        return higher
    if lower._cat == 3:    # a complex scalar or 0-d tensor: a floating operand keeps its precision
        if higher._cat == 2:
            return higher.to_complex() if higher in _TO_COMPLEX else _no_complex_half(higher)
        return lower
    if higher._cat == 2:
        return higher
    if higher._cat == 0 or lower._cat == 2:
        return promote_types(higher, lower)
    return higher


class NoComplexHalf(TypeError):
    """The result dtype would be complex32 (float16 with a complex operand), a dtype ember lacks."""


def _no_complex_half(d):
    raise NoComplexHalf(f'ember has no complex dtype for {d!r} (PyTorch would use complex32, which ember lacks)')


def _scalar_dtype(x):
    if isinstance(x, _b.bool):
        return bool_
    if isinstance(x, _b.int):
        return int64
    if isinstance(x, _b.complex):
        return default_complex()
    return DEFAULT.dtype


_RESULT = {}


def result_type_key(a_dt, a_zero, b_dt, b_zero):
    """Result dtype of a binary op; *_zero is 0 for a dimensioned tensor, 1 for 0-d, 2 for a scalar."""
    key = (a_dt, a_zero, b_dt, b_zero)
    r = _RESULT.get(key)
    if r is None:
        groups = [None, None, None]
        for d, z in ((a_dt, a_zero), (b_dt, b_zero)):
            groups[z] = d if groups[z] is None else promote_types(groups[z], d)
        r = _RESULT[key] = _combine(groups[0], _combine(groups[1], groups[2]))
    return r


def result_type(*operands):
    """torch.result_type over tensors and Python scalars."""
    from .tensor import Tensor
    groups = [None, None, None]
    for x in operands:
        if isinstance(x, Tensor):
            d, z = x.dtype, (1 if x._data.ndim == 0 else 0)
        else:
            d, z = _scalar_dtype(x), 2
        groups[z] = d if groups[z] is None else promote_types(groups[z], d)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def can_cast(from_, to):
    """torch.can_cast: same-kind casting (no float to int, no int to bool)."""
    return from_._cat <= to._cat
