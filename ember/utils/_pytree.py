"""Nested containers (tuples, lists, dicts, namedtuples) flattened to their leaves and rebuilt, as
``torch.utils._pytree`` does for function transforms and torchvision's v2 transforms."""

__all__ = ['tree_flatten', 'tree_unflatten']


def tree_flatten(tree):
    """(leaves in depth-first order, spec to rebuild the structure); anything not a container is a leaf."""
    if isinstance(tree, (tuple, list)):
        kind, keys, children = type(tree), None, list(tree)
    elif isinstance(tree, dict):
        kind, keys, children = type(tree), list(tree), list(tree.values())
    else:
        return [tree], None
    leaves, specs = [], []
    for child in children:
        lv, sp = tree_flatten(child)
        leaves += lv
        specs.append(sp)
    return leaves, (kind, keys, specs)


def tree_unflatten(leaves, spec):
    """The structure ``spec`` describes, holding ``leaves`` in order."""
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec):
    if spec is None:
        return next(it)
    kind, keys, specs = spec
    items = [_build(it, s) for s in specs]
    if keys is not None:
        return kind(zip(keys, items))
    if kind is tuple or kind is list or not hasattr(kind, '_fields'):
        return kind(items)  # also a return type built from one sequence, as PyTorch's structseqs (aminmax, frexp)
    return kind(*items)     # a namedtuple
