"""Nested containers (tuples, lists, dicts, namedtuples, deques, registered types) flattened to their leaves
and rebuilt, as ``torch.utils._pytree`` does: function transforms and torchvision's v2 transforms use it, and so
do libraries (lucidrains' torch-einops-utils maps functions over tensor trees with it)."""
import collections
import dataclasses
import typing
import warnings

__all__ = ['LeafSpec', 'MappingKey', 'PyTree', 'SequenceKey', 'TreeSpec', 'register_pytree_node', 'tree_all',
           'tree_any', 'tree_flatten', 'tree_is_leaf', 'tree_iter', 'tree_leaves', 'tree_map', 'tree_map_',
           'tree_map_only', 'tree_structure', 'tree_unflatten']

PyTree = typing.Any
NodeDef = collections.namedtuple('NodeDef', ['type', 'flatten_fn', 'unflatten_fn', 'flatten_with_keys_fn'])
# node type -> NodeDef (flatten: node -> (children, context), unflatten: (children, context) -> node)
SUPPORTED_NODES = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    """Make ``cls`` a container: ``flatten_fn(node) -> (children, context)``, ``unflatten_fn(children, context)``."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


def _is_structseq(node):
    """One of ember's return types (PyTorch's structseqs: torch.return_types.max...)."""
    return isinstance(node, tuple) and type(node).__module__.startswith('ember.')


def _get_node_type(tree):
    """The type ``tree`` flattens as in ``SUPPORTED_NODES``: ``collections.namedtuple`` for a namedtuple, else its
    type. PyTorch registers every return type at import; ember's are made where their ops live, so each is
    registered here when first met."""
    kind = type(tree)
    if _is_structseq(tree):
        if kind not in SUPPORTED_NODES:
            SUPPORTED_NODES[kind] = NodeDef(kind, lambda t: (list(t), None),
                                            lambda c, _, cls=kind: _structseq_unflatten(c, cls), None)
        return kind
    if isinstance(tree, tuple) and hasattr(kind, '_fields'):
        return collections.namedtuple
    return kind


def _node_kind(node):
    """The registered type ``node`` flattens as (``_get_node_type``), else None for a leaf."""
    kind = _get_node_type(node)
    return kind if kind in SUPPORTED_NODES else None


def _structseq_unflatten(children, cls):
    """One of ember's return types (namedtuple-like, or built from one sequence as PyTorch's structseqs)."""
    return cls(*children) if hasattr(cls, '_fields') else cls(children)


def _namedtuple_flatten(t):
    """A namedtuple's fields and, as context, its class (norse registers its state tuples with this pair)."""
    return list(t), type(t)


def _namedtuple_unflatten(values, context):
    """The namedtuple of class ``context`` holding ``values``, positionally as PyTorch's builds it."""
    return context(*values)


def _list_flatten(seq):
    """A list's items, no context (the flatten function libraries reuse for list-like types: tensordict's)."""
    return list(seq), None


def _list_unflatten(values, context):
    return list(values)


def _list_flatten_with_keys(seq):
    """``_list_flatten`` with each item paired with its ``SequenceKey``."""
    values, context = _list_flatten(seq)
    return [(SequenceKey(i), v) for i, v in enumerate(values)], context


def _tuple_flatten(t):
    return list(t), None


def _tuple_unflatten(values, context):
    return tuple(values)


def _tuple_flatten_with_keys(t):
    values, context = _tuple_flatten(t)
    return [(SequenceKey(i), v) for i, v in enumerate(values)], context


register_pytree_node(tuple, _tuple_flatten, _tuple_unflatten)
register_pytree_node(list, _list_flatten, _list_unflatten)
register_pytree_node(dict, lambda d: (list(d.values()), list(d)), lambda c, keys: dict(zip(keys, c)))
register_pytree_node(collections.namedtuple, _namedtuple_flatten, _namedtuple_unflatten)
register_pytree_node(collections.OrderedDict, lambda d: (list(d.values()), list(d)),
                     lambda c, keys: collections.OrderedDict(zip(keys, c)))
register_pytree_node(collections.defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d)]),
                     lambda c, ctx: collections.defaultdict(ctx[0], zip(ctx[1], c)))
register_pytree_node(collections.deque, lambda d: (list(d), d.maxlen), lambda c, n: collections.deque(c, maxlen=n))


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The path entry of a sequence child: its index."""
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"

    def get(self, sequence):
        """The child this key names in ``sequence``."""
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The path entry of a mapping child: its key."""
    key: object

    def __str__(self):
        return f"[{self.key!r}]"

    def get(self, mapping):
        """The child this key names in ``mapping``."""
        return mapping[self.key]


def _dict_flatten(d):
    """A dict's values and, as context, its keys (the flatten function libraries reuse for dict-like types)."""
    return list(d.values()), list(d.keys())


def _dict_unflatten(values, context):
    """The dict ``_dict_flatten`` took apart."""
    return dict(zip(context, values))


def _dict_flatten_with_keys(d):
    """``_dict_flatten`` with each value paired with its ``MappingKey``."""
    values, keys = _dict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(keys, values)], keys


class TreeSpec:
    """The structure of a flattened tree: a node's type, its context (dict keys...) and its children's specs."""

    def __init__(self, type, context, children_specs):
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_children = len(self.children_specs)
        self.num_leaves = 1 if self.is_leaf() else sum(s.num_leaves for s in self.children_specs)

    def is_leaf(self):
        """A spec of no type and no children stands for a leaf (PyTorch 2.13 makes leaves so)."""
        return self.type is None and not self.children_specs

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and other.is_leaf() == self.is_leaf() and self.type == other.type
                and self.context == other.context and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, repr(self.context), tuple(map(hash, self.children_specs))))

    def unflatten(self, leaves):
        return tree_unflatten(leaves, self)

    def __repr__(self, indent=0):
        if not self.children_specs:
            return f"TreeSpec({self.type.__name__}, {self.context}, [])"
        inner = indent + 2
        first, *rest = [c.__repr__(inner) for c in self.children_specs]
        tail = ''.join(f",\n{' ' * inner}{r}" for r in rest)
        return f"TreeSpec({self.type.__name__}, {self.context}, [{first}{tail}])"


class LeafSpec(TreeSpec):
    """The spec of a leaf (printed ``*``). Made by the user, it warns as PyTorch 2.13's deprecated class does
    (Lightning's ``_tree_flatten`` makes one); ``tree_flatten`` makes its leaves through ``_leaf_spec``."""

    def __init__(self):
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, TreeSpec) and "
                      "treespec.is_leaf()` instead.", FutureWarning, stacklevel=2)
        super().__init__(None, None, [])

    def __repr__(self, indent=0):
        return '*'


def _leaf_spec():
    """A LeafSpec made without the user's deprecation warning."""
    spec = LeafSpec.__new__(LeafSpec)
    TreeSpec.__init__(spec, None, None, [])
    return spec


def tree_is_leaf(tree, is_leaf=None):
    """True for anything that is not a container (or that ``is_leaf`` says is one)."""
    return (is_leaf is not None and is_leaf(tree)) or _node_kind(tree) is None


def tree_flatten(tree, is_leaf=None):
    """(leaves in depth-first order, the TreeSpec to rebuild the structure)."""
    leaves = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(tree, leaves, is_leaf):
    if tree_is_leaf(tree, is_leaf):
        leaves.append(tree)
        return _leaf_spec()
    kind = _node_kind(tree)
    children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
    return TreeSpec(kind, context, [_flatten(c, leaves, is_leaf) for c in children])


def tree_unflatten(leaves, treespec):
    """The structure ``treespec`` describes, holding ``leaves`` in order."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but got "
                        f"item of type {type(treespec)}.")
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a "
                         f"pytree that holds {treespec.num_leaves} items ({treespec}).")
    return _build(iter(leaves), treespec)


def _build(it, spec):
    if spec.is_leaf():
        return next(it)
    children = [_build(it, s) for s in spec.children_specs]
    return SUPPORTED_NODES[spec.type].unflatten_fn(children, spec.context)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree, is_leaf=None):
    yield from tree_leaves(tree, is_leaf)


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def _matching_leaves(spec, tree, is_leaf):
    """The leaves of ``tree`` at the places of ``spec``'s leaves (a dict's by key), raising PyTorch's ValueError
    where its structure differs (node type, arity or keys)."""
    if spec.is_leaf():
        return [tree]
    kind = None if is_leaf is not None and is_leaf(tree) else _node_kind(tree)
    if kind is None or kind is not spec.type:
        raise ValueError(f'Node type mismatch; expected {spec.type}, but got {type(tree)}.')
    children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
    if isinstance(tree, dict):
        keys, theirs = (spec.context[1], context[1]) if kind is collections.defaultdict else (spec.context, context)
        if set(keys) != set(theirs):
            raise ValueError(f'Node keys mismatch; missing key(s): {set(keys) - set(theirs)}; extra key(s): '
                             f'{set(theirs) - set(keys)}.')
        children = [tree[k] for k in keys]
    elif len(children) != spec.num_children:
        raise ValueError(f'Node arity mismatch; expected {spec.num_children}, but got {len(children)}.')
    return [leaf for child, s in zip(children, spec.children_specs) for leaf in _matching_leaves(s, child, is_leaf)]


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree`` with each leaf replaced by ``func(leaf, *matching leaves of rests)``; ``rests`` must have
    ``tree``'s structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_matching_leaves(spec, r, is_leaf) for r in rests]
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_(func, tree, *rests, is_leaf=None):
    """Call ``func`` on each leaf for its side effect; returns ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_matching_leaves(spec, r, is_leaf) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def _only(type_or_types, func):
    if isinstance(type_or_types, (list, set)):
        type_or_types = tuple(type_or_types)
    return lambda x: func(x) if isinstance(x, type_or_types) else x


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """tree_map applying ``func`` only to leaves of the given type(s); other leaves stay."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    return any(map(pred, tree_iter(tree, is_leaf)))


Context = typing.Any   # a node's flatten context (PyTorch's alias; tensordict annotates with it)


def is_structseq_instance(obj):
    """Whether ``obj`` is one of the return types (``torch.return_types.max``...): PyTorch's structseqs."""
    return _is_structseq(obj)


def _broadcast_to_and_flatten(tree, treespec, is_leaf=None):
    """``tree``, a prefix of ``treespec``'s structure, spread over its leaves (a leaf of ``tree`` repeats over the
    subtree it stands for, as vmap's in_dims do); None where ``tree`` is no prefix of it."""
    out = []

    def spread(node, spec):
        if spec.is_leaf() or tree_is_leaf(node, is_leaf):
            out.extend([node] * spec.num_leaves)
            return True
        children, context = SUPPORTED_NODES[_get_node_type(node)].flatten_fn(node)
        if _get_node_type(node) != spec.type or context != spec.context or len(children) != spec.num_children:
            return False
        return all(spread(c, s) for c, s in zip(children, spec.children_specs))
    return out if spread(tree, treespec) else None
