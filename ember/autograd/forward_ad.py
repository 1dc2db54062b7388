"""``torch.autograd.forward_ad``: dual tensors for forward-mode AD (intermediate/forward_ad_usage).

ember has no forward derivative per op. A dual tensor is its primal plus a hidden zero leaf (the level's seed)
that reverse mode records; ``unpack_dual`` finds a tangent as the derivative of a vector-Jacobian product with
respect to its (linear) cotangent, the double-backward trick ``ember.func.jvp`` uses, so every op with a
differentiable backward has a forward derivative. The tangents are PyTorch's, and dual tensors print as PyTorch's;
what shows the difference: a dual tensor and what is computed from it require grad (PyTorch's need not), and ops
run under no_grad lose the tangent. A custom Function that defines ``jvp`` gets its tangent from ``jvp``, as in PyTorch (one with a
backward too when its dual arguments have no history besides the seeds).
An op PyTorch has no forward formula for refuses a tangent with PyTorch's NotImplementedError (``forward_refusal``).
"""
import weakref
from typing import NamedTuple, Optional

from ..tensor import Tensor
from . import forward_refusal
from .graph import _version_cell
from .function import DUAL_LEVEL as _LEVEL   # the current level: -1 outside dual_level, 0 inside (one at a time)

__all__ = ['UnpackedDualTensor', 'enter_dual_level', 'exit_dual_level', 'make_dual', 'unpack_dual', 'dual_level']

_SEEDS = []         # (seed leaf, tangent in the primal's dtype) for each make_dual of the current level
_GIVEN = {}         # id(dual) -> (weak reference to it, the tangent as given, its version): unpack_dual returns that
                    # object while the dual is unchanged in place
_DUALS = []         # the seeds alone: the level's entry of forward_refusal.SOURCES
_EVER = weakref.WeakSet()   # every seed of every level: a tensor whose history holds only these prints none
_TANGENTS = {}      # id(grad_fn) -> grad_fn of each tangent computed with a graph: PyTorch's tangent is not dual, so
                    # the search for seeds stops there (else printing a tangent recursed into its own tangent)


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and the tangent (None for a tensor that is not dual)."""
    primal: Tensor
    tangent: Optional[Tensor]


def refuse_nested():
    """PyTorch's error for a forward-mode computation started inside a dual level (a second level, func.jvp,
    jacfwd, forward-mode jacobian/hessian): one level at a time."""
    if _LEVEL[0] >= 0:
        raise RuntimeError('Nested forward mode AD is not supported at the moment')


def enter_dual_level():
    """Enter the forward-AD level (one at a time) and return its number."""
    refuse_nested()
    _LEVEL[0] = 0
    forward_refusal.SOURCES.append(_DUALS)
    return 0


def exit_dual_level(*, level=None):
    """Leave the level: every dual tensor made in it loses its tangent."""
    if level is None:
        level = _LEVEL[0]
    if level != _LEVEL[0]:
        raise RuntimeError('Trying to exit a forward AD level that was not the last one that was created. This is '
                           'not supported.')
    _SEEDS.clear()
    _GIVEN.clear()
    _TANGENTS.clear()
    _DUALS.clear()
    forward_refusal.forget(_DUALS)
    _LEVEL[0] = level - 1


class dual_level:
    """Context manager (and decorator) holding a forward-AD level for the computation inside."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper


def _check_level(level, what):
    if level is None:
        level = _LEVEL[0]
    if level < 0:
        raise RuntimeError(what)
    return level


def make_dual(tensor, tangent, *, level=None):
    """A tensor equal to ``tensor`` whose tangent is ``tangent`` (kept as given when its strides are the primal's,
    else copied into the primal's layout); gradients of reverse mode flow through it to ``tensor``."""
    from .grad_mode import enable_grad
    _check_level(level, 'Trying to create a dual Tensor for forward AD but no level exists, make sure to '
                        'enter_dual_level() first.')
    for name, t in (('primal', tensor), ('tangent', tangent)):
        if not (t.is_floating_point() or t.is_complex()):
            raise ValueError(f'Expected {name} to be floating point or complex, but got: {t.dtype}')
    if tangent.shape != tensor.shape:
        raise RuntimeError('Trying to set a forward gradient that has a different size than that of the original '
                           f'Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given '
                           f'forward gradient is of size {list(tangent.shape)}.')
    if tangent.stride() != tensor.stride():
        tangent = tensor.new_empty_strided(tensor.shape, tensor.stride(), dtype=tangent.dtype).copy_(tangent)
    seed = tensor.detach().new_zeros(tensor.shape).requires_grad_()
    with enable_grad():   # viewed: a dual tensor's own grad_fn is PyTorch's ViewBackward0 (make_dual makes a view)
        dual = (tensor + seed).view(tensor.shape)
    _SEEDS.append((seed, tangent.to(tensor.dtype)))
    _DUALS.append(seed)
    _EVER.add(seed)
    _GIVEN[id(dual)] = (weakref.ref(dual), tangent, dual._version)
    return dual


def _only_seeds(tensor, seeds=None):
    """True when ``tensor`` has a history and every leaf it reaches is a seed (of this level, or of ``seeds``): its
    primal then needs no graph. A leaf that is not a seed (a parameter) is False."""
    seeds = {id(s) for s, _ in _SEEDS} if seeds is None else {id(s) for s in seeds}
    todo, seen, found = [tensor.grad_fn], set(), False
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        leaf = getattr(node, 'variable', None)
        if leaf is not None:
            if id(leaf) not in seeds:
                return False
            found = True
        todo.extend(n for n, _ in node.next_functions)
    return found


def _reaches_seed(tensor):
    """True when a seed of this level is in ``tensor``'s history other than through a tangent (a tangent and what
    is computed from tangents alone have none, as in PyTorch)."""
    seeds = {id(s) for s, _ in _SEEDS}
    todo, seen = [tensor.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen or id(node) in _TANGENTS:
            continue
        seen.add(id(node))
        if id(getattr(node, 'variable', None)) in seeds:
            return True
        todo.extend(n for n, _ in node.next_functions)
    return False


def _tangent(tensor, graph):
    """The Jacobian of ``tensor`` w.r.t. the seeds times their tangents, or None when it depends on no seed;
    with ``graph``, differentiable w.r.t. the other leaves ``tensor`` depends on (as PyTorch's tangent is)."""
    from . import grad
    from .grad_mode import enable_grad
    seeds = [s for s, _ in _SEEDS]
    with enable_grad(), forward_refusal.converting():
        u = tensor.detach().new_zeros(tensor.shape).requires_grad_()
        vj = grad([tensor], seeds, [u], retain_graph=True, create_graph=True, allow_unused=True)
        used = [(g, t) for g, (_, t) in zip(vj, _SEEDS) if g is not None]
        if not used:
            return None
        linear = [(g, t) for g, t in used if g.requires_grad]
        if not linear:
            return u.detach()
        jv, = grad([g for g, _ in linear], [u], [t for _, t in linear], create_graph=graph, allow_unused=True)
    if jv is None or not graph:
        return u.detach() if jv is None else jv.detach()
    if jv.grad_fn is not None:
        _TANGENTS[id(jv.grad_fn)] = jv.grad_fn
    return jv


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of ``tensor`` at the current level; the tangent is None for a tensor that is not dual or
    outside the level."""
    if (_LEVEL[0] if level is None else level) < 0 or not _SEEDS or not tensor.requires_grad \
            or not _reaches_seed(tensor):
        return UnpackedDualTensor(tensor, None)
    given = _GIVEN.get(id(tensor))
    plain = _only_seeds(tensor)
    fresh = given is not None and given[0]() is tensor and given[2] == tensor._version   # not changed in place
    tangent = given[1] if fresh else _tangent(tensor, not plain)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(tensor.detach() if plain else tensor, tangent)


def _jvp_apply(cls, run, args, kwargs, has_backward=False):
    """A custom Function with ``jvp`` applied to dual tensors: forward on the primals, the output tangents from
    ``jvp(ctx, *input_tangents)`` (zeros for tensors that are not dual, None for other arguments), as PyTorch's
    forward mode. NotImplemented when no argument is dual, or (``has_backward``) when a dual argument has a
    history besides the level's seeds: the primal's graph then goes through backward (the double-backward trick)."""
    tangents = [unpack_dual(a).tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return NotImplemented
    if has_backward and not all(t is None or _only_seeds(a) for a, t in zip(args, tangents)):
        return NotImplemented
    primals = [a.detach() if t is not None else a for a, t in zip(args, tangents)]
    out, ctx = run(cls, primals, kwargs)
    grads = [t if t is not None or not isinstance(a, Tensor) else a.detach().new_zeros(a.shape)
             for a, t in zip(args, tangents)]
    kept = ctx._saved
    ctx._saved = tuple(None if t is None else (t, _version_cell(t), _version_cell(t)[0])
                       for t in getattr(ctx, '_for_forward', ()))   # jvp's saved_tensors: save_for_forward's
    try:
        res = cls.jvp(ctx, *grads)
    finally:
        ctx._saved = kept
    if not isinstance(out, tuple):
        return make_dual(out, res)
    res = res if isinstance(res, tuple) else (res,)
    return tuple(make_dual(o, t) if isinstance(o, Tensor) and t is not None else o for o, t in zip(out, res))


def history_is_seeds(tensor):
    """True for a tensor computed from dual tensors only (at any level): printed without a grad_fn, as PyTorch
    prints it."""
    return bool(_EVER) and _only_seeds(tensor, list(_EVER))


def is_active():
    """True inside a dual level (Function.apply asks before looking for dual arguments)."""
    return _LEVEL[0] >= 0
