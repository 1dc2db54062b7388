"""``torch._foreach_*``: one op over lists of tensors, as optimizers and EMA updates call it (nanochat's MuonAdamW
``_foreach_copy_``, timm's ModelEmaV3 ``_foreach_lerp_``, lion-pytorch's foreach Lion). Each applies ember's op to
the tensors in turn, with PyTorch's list checks; results come back as a tuple, in-place forms return a list of
the tensors they changed.
PyTorch records one Foreach*Backward node for all the results; ember refuses gradients through these ops (they
run under no_grad in the programs that use them) rather than record per-tensor nodes of other names."""
import sys

from .autograd.grad_mode import GRAD
from .tensor import Tensor

_UNARY = ('abs', 'acos', 'asin', 'atan', 'ceil', 'cos', 'cosh', 'erf', 'erfc', 'exp', 'expm1', 'floor', 'frac',
          'lgamma', 'log', 'log10', 'log1p', 'log2', 'neg', 'reciprocal', 'round', 'rsqrt', 'sigmoid', 'sign', 'sin',
          'sinh', 'sqrt', 'tan', 'tanh', 'trunc')
# binary ops: (the overloads PyTorch has besides the Scalar one, whether the List/Tensor forms take alpha)
_BINARY = {'add': ('list', 'scalars', 'tensor', 'alpha'), 'sub': ('list', 'scalars', 'alpha'),
           'mul': ('list', 'scalars', 'tensor'), 'div': ('list', 'scalars', 'tensor'),
           'clamp_max': ('list', 'scalars'), 'clamp_min': ('list', 'scalars'), 'maximum': ('list', 'scalars'),
           'minimum': ('list', 'scalars'), 'pow': ('list', 'scalars')}
# maximum/minimum with a number are clamp_min/clamp_max (NaN kept either way); torch.maximum has no in-place method
_SCALAR_FORM = {'maximum': 'clamp_min', 'minimum': 'clamp_max'}
_NO_INPLACE_METHOD = ('maximum', 'minimum')


def _tensors(name, tensors, what='self'):
    """The list ``tensors`` checked as PyTorch checks a Tensor[] argument."""
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"_foreach_{name}(): argument '{what}' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return list(tensors)


def _same_length(*lists):
    """PyTorch's check that the Tensor[] arguments pair up."""
    if not lists[0]:
        raise RuntimeError('Tensor list must have at least one tensor.')
    for other in lists[1:]:
        if len(other) != len(lists[0]):
            raise RuntimeError(f'Tensor lists must have the same number of tensors, got {len(lists[0])} and '
                               f'{len(other)}')


def _no_grad_check(name, *lists):
    """Refuse to differentiate: PyTorch's single Foreach*Backward node is not recorded here."""
    if GRAD.enabled and any(t.requires_grad for ts in lists for t in ts):
        raise RuntimeError(f'_foreach_{name}: ember does not differentiate the foreach ops; call it under '
                           f'torch.no_grad() or apply torch.{name} to each tensor')


def _bad_arguments(name, *args, **kwargs):
    """PyTorch's TypeError for an argument combination no overload of ``name`` takes."""
    got = ', '.join([type(a).__name__ for a in args] + [f'{k}={type(v).__name__}' for k, v in kwargs.items()])
    return TypeError(f'{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n'
                     ' * (tuple of Tensors self, Number scalar)\n * (tuple of Tensors self, tuple of Scalars scalars)\n'
                     ' * (tuple of Tensors self, tuple of Tensors other)')


def _per_item(name, self, other, tensor_ok=True):
    """``other`` spread over the list: a Tensor[] or Scalar[] of the same length, a 0-d Tensor or a number
    (``tensor_ok``: the op has a Tensor overload, where a tensor of more dims is refused as PyTorch's kernel does;
    without one it is an argument no overload takes)."""
    if isinstance(other, (list, tuple)):
        if other and all(isinstance(o, Tensor) for o in other):
            _same_length(self, other)
            return list(other)
        if len(other) != len(self):
            raise RuntimeError('Tensor list must have same number of elements as scalar list.')
        return list(other)
    if isinstance(other, Tensor) and other.dim() != 0:
        if not tensor_ok:
            raise _bad_arguments(f'_foreach_{name}', self, other)
        raise RuntimeError(f'scalar tensor expected to be 0 dim but it has {other.dim()} dimensions and '
                           f'{other.numel()} elements.')
    return [other] * len(self)


def _apply(name, inplace, fn, self, *others):
    """``fn(t, *o)`` for each tensor of ``self`` and the matching items of ``others``."""
    self = _tensors(name + ('_' if inplace else ''), self)
    _same_length(self)
    tensors = [o for o in others if isinstance(o, list) and o and isinstance(o[0], Tensor)]
    _no_grad_check(name + ('_' if inplace else ''), self, *tensors)
    results = tuple(fn(t, *(o[i] for o in others)) for i, t in enumerate(self))
    return list(self) if inplace else results


def _unary(op):
    def out_of_place(self):
        return _apply(op, False, lambda t: getattr(t, op)(), self)

    def in_place(self):
        return _apply(op, True, lambda t: getattr(t, op + '_')(), self)
    return out_of_place, in_place


def _binary(op, forms):
    alpha_ok = 'alpha' in forms

    def call(t, o, alpha, inplace):
        name = _SCALAR_FORM.get(op, op) if not isinstance(o, Tensor) else op
        if inplace and name in _NO_INPLACE_METHOD:
            return t.copy_(getattr(t, name)(o))
        method = getattr(t, name + ('_' if inplace else ''))
        if alpha != 1:
            return method(o, alpha=alpha)
        return method(o)

    def make(inplace):
        def f(self, other, *, alpha=1):
            if alpha != 1 and not alpha_ok:
                raise _bad_arguments(f"_foreach_{op}{'_' if inplace else ''}", self, other, alpha=alpha)
            self = _tensors(op, self)
            items = _per_item(op + ('_' if inplace else ''), self, other, 'tensor' in forms)
            return _apply(op, inplace, lambda t, o: call(t, o, alpha, inplace), self, items)
        return f
    return make(False), make(True)


def _pow_out(self, exponent, **kwargs):
    """``_foreach_pow``: a number base with a Tensor[] exponent (ScalarAndTensor), else tensor ** item."""
    if kwargs:
        raise _bad_arguments('_foreach_pow', self, exponent, **kwargs)
    if not isinstance(self, (list, tuple)):
        from .ops.pointwise import pow as pow_
        exponent = _tensors('pow', exponent, 'exponent')
        return _apply('pow', False, lambda e: pow_(self, e), exponent)
    items = _per_item('pow', _tensors('pow', self), exponent, tensor_ok=False)
    return _apply('pow', False, lambda t, e: t.pow(e), self, items)


def _pointwise3(op):
    def make(inplace):
        def f(self, tensor1, tensor2, value=1):
            self = _tensors(op, self)
            t1, t2 = _tensors(op, tensor1, 'tensor1'), _tensors(op, tensor2, 'tensor2')
            _same_length(self, t1, t2)
            if isinstance(value, Tensor):
                if value.dim() != 1 or value.numel() != len(self):
                    raise RuntimeError(f'Expected length of scalars to match input of length {len(self)} but got '
                                       f'{value.numel()} instead.')
                value = value.tolist()
            values = _per_item(op, self, value)
            method = op + ('_' if inplace else '')
            return _apply(op, inplace, lambda t, a, b, v: getattr(t, method)(a, b, value=v), self, t1, t2, values)
        return f
    return make(False), make(True)


def _lerp(inplace):
    def f(self, tensors1, weight):
        self, end = _tensors('lerp', self), _tensors('lerp', tensors1, 'tensors1')
        _same_length(self, end)
        weights = _per_item('lerp', self, weight)
        method = 'lerp_' if inplace else 'lerp'
        return _apply('lerp', inplace, lambda t, e, w: getattr(t, method)(e, w), self, end, weights)
    return f


def _foreach_norm(self, ord=2, dtype=None):
    """Each tensor's vector ``ord``-norm, as a 0-d tensor (``dtype``: computed in that dtype)."""
    from .linalg import vector_norm
    return _apply('norm', False, lambda t: vector_norm(t, ord, dtype=dtype), self)


def _foreach_powsum(self, ord=2, dtype=None):
    """Each tensor's sum of ``|x| ** ord`` (the norm before its root), as a 0-d tensor."""
    def powsum(t):
        x = t.abs() if dtype is None else t.to(dtype).abs()
        return x.pow(ord).sum()
    return _apply('powsum', False, powsum, self)


def _foreach_max(self):
    return _apply('max', False, lambda t: t.max(), self)


def _foreach_mm(self, mat2):
    self, other = _tensors('mm', self), _tensors('mm', mat2, 'mat2')
    _same_length(self, other)
    return _apply('mm', False, lambda a, b: a.mm(b), self, other)


def _foreach_clone(self, *, memory_format=None):
    from . import preserve_format
    fmt = preserve_format if memory_format is None else memory_format
    return _apply('clone', False, lambda t: t.clone(memory_format=fmt), self)


def _foreach_copy_(self, src, non_blocking=False):
    """Copy each ``src`` tensor into the matching ``self`` tensor (broadcasting and casting as copy_)."""
    self, src = _tensors('copy_', self), _tensors('copy_', src, 'src')
    _same_length(self, src)
    return _apply('copy', True, lambda t, s: t.copy_(s, non_blocking), self, src)


def _foreach_zero_(self):
    return _apply('zero', True, lambda t: t.zero_(), self)


def _install(namespace):
    """Define the ``_foreach_*`` functions in ``namespace`` (this module's globals)."""
    for op in _UNARY:
        namespace[f'_foreach_{op}'], namespace[f'_foreach_{op}_'] = _unary(op)
    for op, forms in _BINARY.items():
        namespace[f'_foreach_{op}'], namespace[f'_foreach_{op}_'] = _binary(op, forms)
    for op in ('addcdiv', 'addcmul'):
        namespace[f'_foreach_{op}'], namespace[f'_foreach_{op}_'] = _pointwise3(op)
    namespace['_foreach_lerp'], namespace['_foreach_lerp_'] = _lerp(False), _lerp(True)
    namespace['_foreach_pow'] = _pow_out
    for name, fn in list(namespace.items()):
        if name.startswith('_foreach_') and callable(fn):
            fn.__name__ = fn.__qualname__ = name
            fn.__module__ = 'ember'
            if fn.__doc__ is None:
                fn.__doc__ = f'torch.{name}: torch.{name[9:].rstrip("_")} over a list of tensors.'


_install(sys.modules[__name__].__dict__)
NAMES = tuple(sorted(n for n in globals() if n.startswith('_foreach_')))
