"""Higher-level derivatives built on ``grad``: jacobian, hessian, vjp, jvp, hvp, vhp."""
import numpy as np


def _tuple(x):
    from ..tensor import Tensor
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prepare(inputs, create_graph):
    return tuple(x.detach().requires_grad_(True) if not create_graph or not x.requires_grad else x
                 for x in inputs)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): a vector-Jacobian product."""
    from . import grad
    from .grad_mode import enable_grad
    single_in = not isinstance(inputs, (tuple, list))
    xs = _prepare(_tuple(inputs), create_graph)
    with enable_grad():
        out = func(*xs)
        outs = _tuple(out)
        vs = _tuple(v) if v is not None else (None,) * len(outs)
        gs = grad(outs, xs, vs, create_graph=create_graph, allow_unused=True)
    from ..ops.creation import zeros_like
    gs = tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))
    res_out = out if create_graph else (out.detach() if not isinstance(out, tuple) else tuple(o.detach() for o in out))
    return res_out, (gs[0] if single_in else gs)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): a Jacobian-vector product by the double-vjp trick."""
    from . import grad
    from .grad_mode import enable_grad
    from ..ops.creation import zeros_like
    xs = _prepare(_tuple(inputs), True)
    vs = _tuple(v) if v is not None else tuple(zeros_like(x) + 1 for x in xs)
    with enable_grad():
        out = func(*xs)
        outs = _tuple(out)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        gs = grad(outs, xs, us, create_graph=True, allow_unused=True)
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
        jv = grad([g for g, _ in pairs], us, [vv for _, vv in pairs], create_graph=create_graph, allow_unused=True)
    jv = tuple(zeros_like(o) if j is None else (j if create_graph else j.detach()) for j, o in zip(jv, outs))
    res_out = out.detach() if not isinstance(out, tuple) else tuple(o.detach() for o in out)
    return res_out, (jv[0] if not isinstance(out, tuple) else jv)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    """The Jacobian of func at inputs, shaped output.shape + input.shape (nested for tuples)."""
    from . import grad
    from .grad_mode import enable_grad
    from ..ops.creation import zeros_like
    from ..ops.shape import stack
    from ..tensor import Tensor
    single_in = not isinstance(inputs, (tuple, list))
    xs = _prepare(_tuple(inputs), create_graph)
    with enable_grad():
        out = func(*xs)
    single_out = isinstance(out, Tensor)
    outs = _tuple(out)
    rows = []
    for o in outs:
        per_in = [[] for _ in xs]
        for k in range(o.numel()):
            seed = np.zeros(o._data.size, o._data.dtype)
            seed[k] = 1
            with enable_grad():
                gs = grad([o], xs, [Tensor._make(seed.reshape(o._data.shape))], retain_graph=True,
                          create_graph=create_graph, allow_unused=True)
            for i, (g, x) in enumerate(zip(gs, xs)):
                per_in[i].append(zeros_like(x) if g is None else g)
        blocks = []
        for i, x in enumerate(xs):
            if per_in[i]:
                j = stack(per_in[i]).reshape(tuple(o.shape) + tuple(x.shape))
            else:
                j = Tensor._make(np.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype))
            blocks.append(j if create_graph else j.detach())
        rows.append(blocks[0] if single_in else tuple(blocks))
    return rows[0] if single_out else tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy='reverse-mode'):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    from . import grad
    single_in = not isinstance(inputs, (tuple, list))

    def gradient(*xs):
        out = func(*xs)
        gs = grad([out], xs, create_graph=True, allow_unused=True)
        from ..ops.creation import zeros_like
        gs = tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))
        return gs[0] if single_in else gs

    return jacobian(gradient, inputs, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    from . import grad
    from .grad_mode import enable_grad
    single_in = not isinstance(inputs, (tuple, list))
    xs = _prepare(_tuple(inputs), True)
    with enable_grad():
        out = func(*xs)
        gs = grad([out], xs, create_graph=True)
        hv = grad(list(gs), xs, list(_tuple(v)), create_graph=create_graph, allow_unused=True)
    hv = tuple(h if create_graph else h.detach() for h in hv)
    return out.detach(), (hv[0] if single_in else hv)


hvp = vhp
