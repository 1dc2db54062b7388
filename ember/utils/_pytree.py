"""Nested containers (tuples, lists, dicts, namedtuples, deques) flattened to their leaves and rebuilt, as
``torch.utils._pytree`` does for function transforms, torchvision's v2 transforms and library code that maps a
function over nested outputs (x-transformers' ``tree_map``)."""
from collections import defaultdict, deque

__all__ = ['tree_flatten', 'tree_unflatten', 'tree_map', 'tree_map_', 'tree_leaves', 'tree_structure', 'tree_iter',
           'tree_all', 'tree_any', 'tree_is_leaf']


def _node(tree):
    """(kind, context, children) of a container node, or None for a leaf; the context rebuilds it: dict keys
    (and a defaultdict's factory), a deque's maxlen."""
    if isinstance(tree, (tuple, list)):
        return type(tree), None, list(tree)
    if isinstance(tree, defaultdict):
        return type(tree), (tree.default_factory, list(tree)), list(tree.values())
    if isinstance(tree, dict):
        return type(tree), list(tree), list(tree.values())
    if isinstance(tree, deque):
        return type(tree), tree.maxlen, list(tree)
    return None


def tree_is_leaf(tree, is_leaf=None):
    """Whether ``tree`` is a leaf: not a container, or one ``is_leaf`` says to keep whole."""
    return (is_leaf is not None and is_leaf(tree)) or _node(tree) is None


def tree_flatten(tree, is_leaf=None):
    """(leaves in depth-first order, spec to rebuild the structure); anything not a container is a leaf, and so
    is a container for which ``is_leaf`` returns True."""
    if tree_is_leaf(tree, is_leaf):
        return [tree], None
    kind, context, children = _node(tree)
    leaves, specs = [], []
    for child in children:
        lv, sp = tree_flatten(child, is_leaf)
        leaves += lv
        specs.append(sp)
    return leaves, (kind, context, specs)


def tree_unflatten(leaves, spec):
    """The structure ``spec`` describes, holding ``leaves`` in order."""
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec):
    if spec is None:
        return next(it)
    kind, context, specs = spec
    items = [_build(it, s) for s in specs]
    if issubclass(kind, defaultdict):
        factory, keys = context
        return kind(factory, zip(keys, items))
    if issubclass(kind, dict):
        return kind(zip(context, items))
    if issubclass(kind, deque):
        return kind(items, maxlen=context)
    if kind is tuple or kind is list or not hasattr(kind, '_fields'):
        return kind(items)  # also a return type built from one sequence, as PyTorch's structseqs (aminmax, frexp)
    return kind(*items)     # a namedtuple


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree`` in depth-first order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree, is_leaf=None):
    """An iterator over the leaves of ``tree``."""
    return iter(tree_leaves(tree, is_leaf))


def tree_structure(tree, is_leaf=None):
    """The spec of ``tree`` (what ``tree_unflatten`` rebuilds from)."""
    return tree_flatten(tree, is_leaf)[1]


def _matching_leaves(spec, tree, is_leaf):
    """The leaves of ``tree`` at the places of ``spec``'s leaves, raising PyTorch's ValueError where its
    structure differs (node type, arity or keys)."""
    if spec is None:
        return [tree]
    kind, context, specs = spec
    node = None if is_leaf is not None and is_leaf(tree) else _node(tree)
    if node is None or node[0] is not kind:
        raise ValueError(f'Node type mismatch; expected {kind}, but got {type(tree)}.')
    _, other, children = node
    if issubclass(kind, dict):
        keys = context[1] if issubclass(kind, defaultdict) else context
        theirs = other[1] if issubclass(kind, defaultdict) else other
        if set(keys) != set(theirs):
            raise ValueError(f'Node keys mismatch; missing key(s): {set(keys) - set(theirs)}; extra key(s): '
                             f'{set(theirs) - set(keys)}.')
        children = [tree[k] for k in keys]
    elif len(children) != len(specs):
        raise ValueError(f'Node arity mismatch; expected {len(specs)}, but got {len(children)}.')
    out = []
    for child, s in zip(children, specs):
        out += _matching_leaves(s, child, is_leaf)
    return out


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree``'s structure holding ``func`` of each leaf (and of the leaves at the same place in ``rests``,
    which must have ``tree``'s structure)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_matching_leaves(spec, r, is_leaf) for r in rests]
    return tree_unflatten(map(func, leaves, *others), spec)


def tree_map_(func, tree, *rests, is_leaf=None):
    """``func`` called on each leaf (for its side effects, as an in-place op); returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_matching_leaves(spec, r, is_leaf) for r in rests]
    for args in zip(leaves, *others):
        func(*args)
    return tree


def tree_all(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_leaves(tree, is_leaf)))
