"""``torch.cond`` and ``torch.while_loop`` in eager semantics. PyTorch compiles the call (its higher-order ops
trace both branches or the loop body); ember has no compiler, so it checks the arguments as PyTorch does and
runs the chosen branch, or the loop, in Python: the results are the ones PyTorch's compiled call gives."""
from .tensor import Tensor

__all__ = ['cond', 'while_loop']


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
