"""``torch.cond``, ``torch.while_loop`` and torch._higher_order_ops' ``scan``, ``map`` and ``associative_scan`` in
eager semantics. PyTorch compiles the call (its higher-order ops
trace both branches or the loop body); ember has no compiler, so it checks the arguments as PyTorch does and
runs the chosen branch, or the loop, in Python: the results are the ones PyTorch's compiled call gives."""
from .tensor import Tensor

__all__ = ['cond', 'while_loop', 'scan', 'map', 'associative_scan']


def _leaves(tree):
    """The leaves of a nested dict/list/tuple."""
    if isinstance(tree, dict):
        for v in tree.values():
            yield from _leaves(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from _leaves(v)
    else:
        yield tree


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``; ``pred`` a Python bool/number or a
    one-element tensor, ``operands`` a (nested) tuple or list of tensors."""
    import builtins
    if isinstance(pred, (builtins.bool, builtins.int, builtins.float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f'Expected pred to be bool or tensor, but got {pred}.')
    if pred.numel() != 1:
        raise RuntimeError(f'Expected pred to be bool or single-element tensor, but got {pred}.')
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError('Expect both branches to be callable.')
    if not isinstance(operands, (tuple, list)) or any(not isinstance(t, Tensor) for t in _leaves(operands)):
        raise RuntimeError('Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of '
                           f'tensor leaves, but got {operands}.')
    return true_fn(*operands) if pred.item() else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` holds; the final carried values (what
    the body returned: a tuple, or one tensor; the inputs as a tuple when the loop never runs, where PyTorch
    gives the body's structure). ``carried_inputs``: a (nested) tuple/list of tensors and ints."""
    import builtins
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError('Expect cond_fn and body_fn to be callable.')
    from ._sym import SymInt
    flat = list(_leaves(carried_inputs))
    bad = [type(t) for t in flat if not isinstance(t, (Tensor, builtins.int, SymInt))]
    if bad:
        raise AssertionError(f'{flat} can only be of {(Tensor, builtins.int, SymInt)} but got {tuple(bad)}')
    if not isinstance(carried_inputs, (tuple, list)) or any(
            not isinstance(t, (Tensor, builtins.int)) for t in _leaves(carried_inputs)):
        raise RuntimeError('Expect carried_inputs to be a tuple of possibly nested dict/list/tuple that only'
                           f'consists of tensor or int leaves, but got {carried_inputs}.')
    out = args = tuple(carried_inputs)
    while cond_fn(*args):
        out = body_fn(*args)
        args = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return out


def _flat(tree, what):
    """``tree``'s leaves and spec, every leaf a tensor (PyTorch's RuntimeError naming ``what`` otherwise)."""
    from .utils import _pytree
    leaves, spec = _pytree.tree_flatten(tree)
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(f'All {what} leaves must be a Tensor but got {t}')
    return leaves, spec


def scan(combine_fn, init, xs, *, dim=0, reverse=False):
    """``carry, y = combine_fn(carry, x)`` over the slices ``x`` of ``xs`` along ``dim`` (last first when
    ``reverse``), from ``init``: the final carry and the ``y`` slices stacked along ``dim`` (the control-flow
    tutorial's cumulative sums and LSTM)."""
    import builtins
    from .utils import _pytree
    from . import stack
    leaves_xs, spec_xs = _pytree.tree_flatten(xs)
    if not leaves_xs:
        return init, []
    if not callable(combine_fn):
        raise RuntimeError(f'Combine_fn must be a callable, but got {combine_fn}')
    if not isinstance(dim, builtins.int):
        raise RuntimeError('Dim must be an int, but got ' + str(type(dim)))
    if not isinstance(reverse, builtins.bool):
        raise RuntimeError('Reverse must be a bool, but got ' + str(type(reverse)))
    if not _pytree.tree_leaves(init):
        raise RuntimeError('scan() operator requires init leaves.')
    _flat(init, 'init')
    leaves_xs, _ = _flat(xs, 'xs')
    ndim = leaves_xs[0].ndim
    dim = dim + ndim if dim < 0 else dim
    if any(x.ndim <= dim or x.shape[dim] == 0 for x in leaves_xs):
        raise RuntimeError("All xs leaves must at least have 'dim' number of dimensions and scan dimension > 0")
    steps = range(leaves_xs[0].shape[dim])
    carry, ys = init, []
    for i in (reversed(steps) if reverse else steps):
        carry, y = combine_fn(carry, _pytree.tree_unflatten([x.select(dim, i) for x in leaves_xs], spec_xs))
        ys.append(y)
    if reverse:
        ys.reverse()
    leaves_ys = [_pytree.tree_leaves(y) for y in ys]
    out = [stack([step[k] for step in leaves_ys], 0) for k in range(len(leaves_ys[0]))]
    out = [t.movedim(0, dim) if dim and dim < t.ndim else t for t in out]
    return carry, _pytree.tree_unflatten(out, _pytree.tree_structure(ys[0]))


def map(f, xs, *args):
    """``f(x, *args)`` for each slice ``x`` of ``xs`` along its first dim, the results stacked."""
    from .utils import _pytree
    from . import stack
    leaves, spec = _pytree.tree_flatten(xs)
    if not all(isinstance(t, Tensor) for t in leaves):
        raise RuntimeError(f'Mapped xs can only consist of tensors. Got xs {leaves}.')
    shapes = [t.shape for t in leaves]
    if shapes[0][0] == 0:
        raise RuntimeError('Leading dimensions of mapped xs cannot be 0.')
    if any(s[0] != shapes[0][0] for s in shapes):
        raise RuntimeError(f'Leading dimensions of mapped xs must be consistent. Got shapes {shapes}.')
    outs = [f(_pytree.tree_unflatten([t[i] for t in leaves], spec), *args) for i in range(shapes[0][0])]
    flat = [_pytree.tree_leaves(o) for o in outs]
    stacked = [stack([o[k] for o in flat]) for k in range(len(flat[0]))]
    return _pytree.tree_unflatten(stacked, _pytree.tree_structure(outs[0]))


def associative_scan(combine_fn, xs, dim, reverse=False, combine_mode='pointwise'):
    """The inclusive scan of ``xs`` along ``dim`` with the associative ``combine_fn`` (called on slices that keep
    ``dim``). combine_mode 'pointwise' needs CUDA (refused as PyTorch refuses it on the CPU); 'generic' combines
    in sequence, left to right, where PyTorch's generic mode combines pairs in a tree: the same values for exact
    (integer) combines, float ones may round otherwise."""
    from .utils import _pytree
    from . import cat
    if not callable(combine_fn):
        raise ValueError(f'Combine_fn must be a callable, but got {combine_fn}')
    if combine_mode not in ('pointwise', 'generic'):
        raise ValueError(f"Combine_mode must either 'pointwise' or 'generic', but got {combine_mode}")
    leaves, spec = _pytree.tree_flatten(xs)
    if not all(isinstance(t, Tensor) for t in leaves):
        raise ValueError(f'xs leaves must be a Tensor but got {leaves}')
    if combine_mode == 'pointwise':
        raise ValueError("For combine_mode='pointwise', all input tensors need to be on CUDA or XPU")
    if not leaves:
        return xs
    dim = dim + leaves[0].ndim if dim < 0 else dim
    n = leaves[0].shape[dim]
    order = range(n - 1, -1, -1) if reverse else range(n)
    acc, parts = None, {}
    for i in order:
        x = _pytree.tree_unflatten([t.narrow(dim, i, 1) for t in leaves], spec)
        acc = x if acc is None else combine_fn(x, acc) if reverse else combine_fn(acc, x)
        parts[i] = _pytree.tree_leaves(acc)
    out = [cat([parts[i][k] for i in range(n)], dim) for k in range(len(leaves))]
    return _pytree.tree_unflatten(out, spec)
