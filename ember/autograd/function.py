"""Custom differentiable ops: subclass ``Function`` with static ``forward(ctx, ...)`` and
``backward(ctx, ...)`` and call ``apply`` (PyTorch's contract: ctx.save_for_backward, saved_tensors,
needs_input_grad, mark_non_differentiable, mark_dirty, set_materialize_grads)."""
import functools

import numpy as np

from . import forward_refusal
from .grad_mode import GRAD, as_user, no_grad
from .._dtype import FROM_NP
from .graph import Node, MODE, PACKED, _version_cell, _FREED


# forward_ad's current level (-1 outside dual_level), read here without importing forward_ad on each apply (an
# import statement per call cost Function.apply about a microsecond)
DUAL_LEVEL = [-1]


class FunctionCtx:
    """What ``forward`` and ``backward`` of a custom Function share."""

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._for_forward = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The grad_fn of a custom Function's outputs; it is also the ``ctx`` both methods receive."""

    def __init__(self, inputs):
        Node.__init__(self, inputs)
        self._to_save = ()
        self._non_diff = set()
        self._materialize = True

    def __repr__(self):
        # PyTorch creates these node classes in torch.autograd.function and prints them with Python's default repr
        return f'<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>'

    @property
    def saved_tensors(self):
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED)
        out = []
        for e in s:
            if e is None:
                out.append(None)
                continue
            if e[0] is PACKED:  # taken by a pack hook (saved_tensors_hooks)
                out.append(e[3].unpack(self, True))
                continue
            t, vc, ver = e
            if vc[0] != ver:
                from .graph import _raise_modified
                _raise_modified(self, t, vc[0], ver, False)
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def backward(self, *grads):
        from ..tensor import Tensor
        wrapped = []
        for g, meta in zip(grads, self._out_meta or [None] * len(grads)):
            if g is None and self._materialize and meta is not None:
                g = np.zeros(meta[0], meta[1])
            wrapped.append(g if g is None or isinstance(g, Tensor) else Tensor._make(g))
        with no_grad() if not MODE.graph else _null():
            res = as_user(self._cls.backward, self, *wrapped)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.needs_input_grad)
        if len(res) > n and all(r is None for r in res[n:]):
            res = res[:n]
        if len(res) != n:
            raise RuntimeError(f'function {type(self).__name__} returned an incorrect number of gradients '
                               f'(expected {n}, got {len(res)})')
        res = [res[p] for p in self._tensor_pos]
        out = []
        for i, (r, (fn, _), (shape, dt)) in enumerate(zip(res, self.next_functions, self._in_meta)):
            if r is None or fn is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                r = Tensor._make(np.asarray(r))
            if r._data.shape != shape:
                r = self._reduced(i, r, shape)
            if r._data.dtype is not dt and r._data.dtype.kind == dt.kind == 'f':
                r = r.to(FROM_NP[dt])   # PyTorch's engine casts a gradient to its input's dtype
            out.append(r if MODE.graph else r._data)
        return tuple(out)


    def _reduced(self, i, r, shape):
        """Gradient ``r`` of input ``i`` summed to the input's ``shape`` where that shape broadcasts to r's, as
        PyTorch's engine does (gpytorch's RBFCovariance returns an n x n gradient for a 1 x 1 lengthscale);
        PyTorch's error otherwise."""
        got = r._data.shape
        lead = len(got) - len(shape)
        if lead < 0 or any(s not in (1, g) for s, g in zip(shape, got[lead:])):
            raise RuntimeError(f'Function {type(self).__name__} returned an invalid gradient at index {i} - got '
                               f'{list(got)} but expected shape compatible with {list(shape)}')
        from .dual import sum_to
        return sum_to(r, shape)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FunctionMeta(type):
    """Gives each Function subclass its own backward node class, named ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + 'Backward', (BackwardCFunction,), {'_cls': cls})


class Function(metaclass=FunctionMeta):
    """Base class of custom autograd ops; use ``MyOp.apply(*args)``."""

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f'{type(self)} should not be instantiated. Methods on autograd functions are all static, so '
                      'you should invoke them on the class itself. Instantiating an autograd function will raise an '
                      'error in a future version of PyTorch.', DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        """Calling an instance was the pre-0.4 way to apply a Function (a non-static ``forward``): refused."""
        raise RuntimeError('Legacy autograd function with non-static forward method is deprecated. Please use '
                           'new-style autograd function with static forward method. (Example: '
                           'https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)')

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError('You must implement the forward function for custom autograd.Function.')

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError('You must implement either the backward or vjp method for your custom '
                                  'autograd.Function to use it with backward mode AD.')

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        return NotImplemented

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError('You must implement the jvp function for custom autograd.Function to use it with '
                                  'forward mode AD.')

    @classmethod
    def apply(cls, *args, **kwargs):
        if DUAL_LEVEL[0] >= 0 and cls.jvp is not Function.jvp:
            from . import forward_ad
            out = forward_ad._jvp_apply(cls, _run, args, kwargs,
                                        cls.backward is not Function.backward or cls.vjp is not Function.vjp)
            if out is not NotImplemented:
                return out
        _check_transformable(cls)     # (before the jvp refusal: PyTorch asks for setup_context first)
        if forward_refusal.SOURCES and cls.jvp is Function.jvp:   # PyTorch's refusal of a tangent without jvp
            ids = forward_refusal._seed_ids()
            if any(forward_refusal.carries_tangent(a, ids) for a in args):
                Function.jvp(None)
        return _run(cls, args, kwargs)[0]


SETUP_CONTEXT_REQUIRED = ('In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, '
                          '...), it must override the setup_context staticmethod. For more details, please see '
                          'https://pytorch.org/docs/main/notes/extending.func.html')


def _check_transformable(cls):
    """PyTorch's refusal of a Function without setup_context inside a torch.func transform."""
    if cls.setup_context is Function.setup_context:
        from . import _TRANSFORMS
        if _TRANSFORMS[0]:
            raise RuntimeError(SETUP_CONTEXT_REQUIRED)


def _run(cls, args, kwargs):
    """Function.apply: forward under no_grad, then the outputs get the node (which is also ``ctx``) as grad_fn;
    returns (outputs, ctx)."""
    from ..tensor import Tensor
    tensors = [a for a in args if isinstance(a, Tensor)]
    track = GRAD.enabled and any(t._requires_grad for t in tensors)
    ctx = cls._backward_cls(tensors if track else ())
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    ctx._tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    uses_setup = cls.setup_context is not Function.setup_context
    _check_transformable(cls)
    with no_grad():
        out = cls.forward(*args, **kwargs) if uses_setup else cls.forward(ctx, *args, **kwargs)
    if uses_setup:
        cls.setup_context(ctx, args, out)
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    dirty = getattr(ctx, '_dirty', ())
    if dirty:
        _check_dirty(dirty, outs, track)
    if not track:
        return out, ctx
    ctx._out_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), np.float32)
                     for o in outs]
    ctx._in_meta = [(t._data.shape, t._data.dtype) for t in tensors]
    inputs_by_id = {id(t) for t in tensors}
    result = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            result.append(o)
            continue
        if id(o) in inputs_by_id and id(o) not in {id(d) for d in getattr(ctx, '_dirty', ())}:
            o = Tensor._make(o._data)
        if id(o) in ctx._non_diff or o._data.dtype.kind not in 'fc':    # (floating and complex outputs differentiate)
            result.append(o)
            continue
        o.grad_fn, o._output_nr, o._requires_grad = ctx, i, True
        result.append(o)
    # saved once the outputs have their grad_fn, as PyTorch saves them (a pack hook sees an output's history)
    for k, t in enumerate(ctx._to_save):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f'save_for_backward can only save variables, but argument {k} is of type '
                            f'{type(t).__name__}')
    ctx._saved = tuple(None if t is None else (t, _version_cell(t), _version_cell(t)[0]) for t in ctx._to_save)
    return (result[0] if single else tuple(result)), ctx


def _check_dirty(dirty, outs, track):
    """PyTorch's handling of the inputs ``forward`` changed in place (ctx.mark_dirty): each must be returned, a
    recorded change may not touch a leaf that requires grad (or a view of one), and each gets a version bump."""
    returned = {id(o) for o in outs}
    if any(id(d) not in returned for d in dirty):
        raise RuntimeError('Some elements marked as dirty during the forward method were not returned as output. '
                           'The inputs that are modified inplace must all be outputs of the Function.')
    for d in dirty:
        d._bump()
        if not track:
            continue
        base = d._base
        if base is not None and base.grad_fn is None and base._requires_grad:
            raise RuntimeError('a view of a leaf Variable that requires grad is being used in an in-place operation.')
        if d.grad_fn is None and d._requires_grad and base is None:
            raise RuntimeError('a leaf Variable that requires grad has been used in an in-place operation.')


class InplaceFunction(Function):
    pass


class NestedIOFunction(Function):
    """PyTorch's legacy base for functions with nested inputs, kept for its names: a subclass defines
    ``forward_extended``/``backward_extended``; the ``save_for_backward``/``mark_*`` calls record their tensors."""

    def __call__(self, *args, **kwargs):
        """PyTorch's legacy ``_do_forward`` path, which fails on its missing base method; kept so the error
        type is PyTorch's."""
        raise AttributeError("'super' object has no attribute '_do_forward'")

    def forward_extended(self, *input):
        raise NotImplementedError

    def backward_extended(self, *grad_output):
        raise NotImplementedError

    def save_for_backward(self, *args):
        self.to_save = args

    def mark_dirty(self, *args, **kwargs):
        self.dirty_tensors = tuple(args) + tuple(kwargs.values())

    def mark_non_differentiable(self, *args, **kwargs):
        self.non_differentiable = tuple(args) + tuple(kwargs.values())


def once_differentiable(fn):
    """Marks a backward that does not support double backward (ember runs it under no_grad)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
