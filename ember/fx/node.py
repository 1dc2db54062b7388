"""``Node``: one operation of an fx ``Graph`` (its op, target, args, kwargs and users), and helpers to map
over the Nodes inside nested arguments."""
import builtins
import types

Target = object  # a callable for call_function, else a str (PyTorch's typing alias)
Argument = object

_LEGAL_OPS = ("call_function", "call_method", "get_attr", "call_module", "placeholder", "output")
_side_effectful_functions = set()


def has_side_effect(fn):
    """Mark ``fn`` as side-effectful, so that ``eliminate_dead_code`` keeps its calls."""
    _side_effectful_functions.add(fn)
    return fn


def _torch_path(obj):
    """The torch name of an ember callable (``torch.relu``, ``torch.nn.functional.relu``), or None."""
    from ._dispatch import torch_path
    return torch_path(obj)


def _get_qualified_name(func):
    """The dotted name by which generated code refers to ``func`` (``torch.relu``, ``operator.add``)."""
    name = func.__name__
    if getattr(builtins, name, None) is func:
        return name
    path = _torch_path(func)
    if path is not None:
        return path
    if name == "<lambda>":
        raise RuntimeError("Unable to represent lambda")
    module = func.__module__
    if module is None:
        raise RuntimeError(f"cannot find module for {func}")
    if module == "ember" or module.startswith("ember."):
        if isinstance(func, type) and getattr(_ember(), name, None) is func:
            return f"torch.{name}"      # a class PyTorch defines in torch itself (Tensor, Size, dtype)
        module = "torch" + module[len("ember"):]
    return f"{module}.{name}"


def _ember():
    import ember
    return ember


def _type_repr(obj):
    """A short repr of a type annotation (``int``, ``torch.Tensor``)."""
    if isinstance(obj, type) and not isinstance(obj, types.GenericAlias):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        module = obj.__module__
        if module == "ember.tensor" and obj.__qualname__ == "Tensor":
            return "torch.Tensor"
        return f"{module}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    return repr(obj).replace("ember.tensor.Tensor", "torch.Tensor")  # typing.Optional[Tensor] and the like


def _format_arg(arg):
    """An argument as ``print(graph)`` shows it (Nodes as ``%name``)."""
    if isinstance(arg, list):
        return "[" + ", ".join(_format_arg(a) for a in arg) + "]"
    if isinstance(arg, tuple):
        return "(" + ", ".join(_format_arg(a) for a in arg) + ("," if len(arg) == 1 else "") + ")"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


class Node:
    """One operation in a Graph: ``op`` (placeholder, get_attr, call_function, call_method, call_module,
    output), its ``target``, ``args``/``kwargs`` (which may hold other Nodes) and the Nodes that use it."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op == "call_function":
            if not callable(target):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                                 f"{type(target).__name__} but a Callable is expected")
        elif op != "root":
            if op not in _LEGAL_OPS:
                raise AssertionError(f"op '{op}' is not in _legal_ops")
            if not isinstance(target, str):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                                 f"{type(target).__name__} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self._input_nodes = {}
        self.users = {}
        self._args = ()
        self._kwargs = {}
        self._prev = self
        self._next = self
        self._erased = False
        self._repr_fn = None
        self.meta = {}
        self._update_args_kwargs(args, kwargs)

    # -- the doubly linked list of a Graph's nodes -------------------------------------------------------
    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Insert ``x`` before this node (moving it if it is already in the list)."""
        if self is x:
            raise AssertionError("Cannot prepend self")
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x):
        """Insert ``x`` after this node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        p, n = self._prev, self._next
        p._next, n._prev = n, p  # own links kept: an iterator standing on an erased node moves on

    # -- arguments and uses ----------------------------------------------------------------------------
    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, a):
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self._update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self):
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def update_kwarg(self, key, arg):
        self.kwargs = {**self.kwargs, key: arg}

    def _update_args_kwargs(self, new_args, new_kwargs):
        """Set args/kwargs and keep the ``users`` of old and new inputs in step."""
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = {}
        self._args = map_aggregate(new_args, self._collect_input)
        self._kwargs = map_aggregate(new_kwargs, self._collect_input)
        for new in self._input_nodes:
            new.users.setdefault(self)

    def _collect_input(self, a):
        if isinstance(a, Node):
            self._input_nodes.setdefault(a)
        return a

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *, propagate_meta=False):
        """Make every user of this node use ``replace_with`` instead; returns the users changed."""
        if propagate_meta:
            if replace_with.meta:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                                     "but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        changed = []
        for user in list(self.users):
            if not delete_user_cb(user):
                continue
            changed.append(user)
            user._replace_input_with(self, replace_with)
        return changed

    def replace_input_with(self, old_input, new_input):
        """Use ``new_input`` wherever this node's args/kwargs use ``old_input``."""
        self._replace_input_with(old_input, new_input)

    def _replace_input_with(self, old, new):
        swap = lambda n: new if n is old else n  # noqa: E731
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    # -- printing --------------------------------------------------------------------------------------
    @property
    def stack_trace(self):
        return self.meta.get("stack_trace")

    def __repr__(self):
        if self._repr_fn:
            return self._repr_fn(self)
        return self.name

    @staticmethod
    def _pretty_print_target(target):
        if isinstance(target, str):
            return target
        name = getattr(target, "__name__", None)
        if name is not None and getattr(target, "__module__", None) == "builtins":
            return f"builtins.{name}"
        if name is not None and getattr(target, "__module__", None) == "_operator":
            return f"operator.{name}"
        return _get_qualified_name(target)

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        """This node as one line of ``print(graph)``; placeholders go to ``placeholder_names`` when given."""
        typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        if self.op == "placeholder":
            arg_str = self.target + (f": {_type_repr(self.type)}" if self.type else "")
            if placeholder_names:  # PyTorch's test: an empty list prints placeholders as lines
                placeholder_names.append(arg_str)
                return None
            default = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}[target={self.target}]{default}"
        if self.op == "get_attr":
            return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={self._pretty_print_target(self.target)}]")
        if self.op == "output":
            if self.type and maybe_return_typename:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                f"{self.op}[target={self._pretty_print_target(self.target)}]("
                f"args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")

    def is_impure(self):
        """Whether dead-code elimination must keep this node (inputs, outputs, side effects)."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            return self.target in _side_effectful_functions or getattr(self.target, "__name__", "") in (
                "_record_function_enter", "_record_function_exit", "_record_function_enter_new")
        if self.op == "call_module":
            return getattr(self.graph.owning_module.get_submodule(self.target), "_is_impure", False)
        return False

    # ordering so that sorted(nodes) and node comparisons follow the graph order
    def __lt__(self, other):
        return _position(self) < _position(other)

    def __gt__(self, other):
        return _position(self) > _position(other)


def _position(node):
    for i, n in enumerate(node.graph.nodes):
        if n is node:
            return i
    return -1


def map_arg(a, fn):
    """Apply ``fn`` to every Node inside the nested argument ``a`` (tuples, lists, dicts, slices)."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def map_aggregate(a, fn):
    """Apply ``fn`` to every leaf of the nested argument ``a``, keeping the container types."""
    if isinstance(a, tuple):
        t = tuple(map_aggregate(elem, fn) for elem in a)
        return t if not hasattr(a, "_fields") else type(a)(*t)
    if isinstance(a, list):
        return [map_aggregate(elem, fn) for elem in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


__all__ = ["Node", "map_arg", "map_aggregate", "has_side_effect", "Target", "Argument"]
