"""CPU autocast's per-thread state and its cast policies, as PyTorch's AutocastCPU dispatch key applies them: an op
on the lower-precision list casts its floating inputs (float64 excepted) to the autocast dtype, one on the fp32 list
to float32; inside such an op autocast is off, so the ops it calls run as they are. Float32 leaves that require grad
are cast once per autocast region (the weight cache), as in PyTorch."""
import functools
import inspect
import threading
import weakref

from .. import _dtype
from ..autograd.grad_mode import GRAD


class _State(threading.local):
    """Autocast's settings for one thread (PyTorch keeps them thread-local)."""
    enabled = False          # CPU autocast on in this thread (and not inside a listed op)
    dtype = _dtype.bfloat16  # the lower-precision dtype
    cache_enabled = True
    nesting = 0

    def __init__(self):
        self.cache = {}      # id(float32 leaf) -> (weakref to it, its cast)
        self.others = {}     # device type -> (enabled, dtype): flags of devices ember has not (no op reads them)


STATE = _State()


def _eligible(t, Tensor):
    return isinstance(t, Tensor) and t._data.dtype.kind == 'f' and t.dtype is not _dtype.float64


def _cached_cast(t, to):
    """``t`` as ``to`` (float32 leaves that require grad: once per region, from the cache; a cast made under
    no_grad, as in a custom Function's forward, is not kept, so a later op still records the cast's grad_fn)."""
    if t.dtype is to:
        return t
    if to is STATE.dtype and t.dtype is _dtype.float32 and t._requires_grad and t.is_leaf and t._base is None \
            and STATE.cache_enabled and GRAD.enabled:
        hit = STATE.cache.get(id(t))
        if hit is not None and hit[0]() is t:
            return hit[1]
        cast = t.to(to)
        STATE.cache[id(t)] = (weakref.ref(t), cast)
        return cast
    return t.to(to)


def _cast_all(v, to, Tensor):
    if isinstance(v, Tensor):
        return _cached_cast(v, to) if _eligible(v, Tensor) else v
    if isinstance(v, (list, tuple)) and v and any(isinstance(x, Tensor) for x in v):
        return type(v)(_cast_all(x, to, Tensor) for x in v)
    return v


def _run(fn, to, args, kwargs):
    """``fn`` on its inputs cast to ``to``, with autocast off inside it (PyTorch's ExcludeDispatchKeyGuard)."""
    from ..tensor import Tensor
    args = tuple(_cast_all(a, to, Tensor) for a in args)
    kwargs = {k: _cast_all(v, to, Tensor) for k, v in kwargs.items()}
    STATE.enabled = False
    try:
        return fn(*args, **kwargs)
    finally:
        STATE.enabled = True


def _wrap(fn, to):
    """``fn`` running under ``to()``'s cast policy while autocast is on. The wrapper has fn's own signature
    (generated): an op on the hot path (matmul, linear, conv) pays 110 ns a call for the check where a
    ``*args, **kwargs`` wrapper costs 230 ns (timeit, min of 10 interleaved runs, 2-core machine under load)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    kinds = {p.kind for p in sig.parameters.values()} if sig else {None}
    if kinds - {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY}:
        def op(*args, **kwargs):
            if STATE.enabled:
                return _run(fn, to(), args, kwargs)
            return fn(*args, **kwargs)
        return functools.wraps(fn)(op)
    params = list(sig.parameters.values())
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    decl, pos, kw, star = [], [], [], False
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            decl.append('*')
            star = True
        decl.append(p.name + (f'=_defaults[{p.name!r}]' if p.name in defaults else ''))
        (kw if p.kind is p.KEYWORD_ONLY else pos).append(p.name)
    call = ', '.join(pos + [f'{k}={k}' for k in kw])
    src = (f'def op({", ".join(decl)}):\n'
           f'    if STATE.enabled:\n'
           f'        return _run(fn, to(), ({"".join(n + ", " for n in pos)}), {{{", ".join(f"{k!r}: {k}" for k in kw)}}})\n'
           f'    return fn({call})\n')
    env = {'STATE': STATE, '_run': _run, 'fn': fn, 'to': to, '_defaults': defaults, '__name__': __name__}
    exec(src, env)   # noqa: S102 (source built above from the op's own parameter names)
    return functools.wraps(fn)(env['op'])


def lower_precision(fn):
    """Decorate an op of PyTorch's CPU lower-precision list: under autocast it runs in the autocast dtype."""
    return _wrap(fn, lambda: STATE.dtype)


def _widest(args, kwargs):
    """PyTorch's autocast ``promote`` target: float32 when a floating input (float64 aside) is float32, else the
    autocast dtype; another lower-precision dtype is refused, as PyTorch's prioritize refuses it."""
    from ..tensor import Tensor
    to = STATE.dtype
    for v in list(args) + list(kwargs.values()):
        for t in (v if isinstance(v, (list, tuple)) else (v,)):
            if _eligible(t, Tensor) and t.dtype is not to:
                if t.dtype is not _dtype.float32:
                    raise RuntimeError('Unexpected floating ScalarType in at::autocast::prioritize')
                to = _dtype.float32
    return to


def promote(fn):
    """Decorate an op of PyTorch's CPU promote list: under autocast its floating inputs take the widest dtype."""
    def op(*args, **kwargs):
        if STATE.enabled:
            return _run(fn, _widest(args, kwargs), args, kwargs)
        return fn(*args, **kwargs)
    return functools.wraps(fn)(op)


def fp32(fn):
    """Decorate an op of PyTorch's CPU fp32 list: under autocast its floating inputs are cast to float32."""
    return _wrap(fn, lambda: _dtype.float32)
