"""``Proxy``: the stand-in value that symbolic tracing passes through a program; every operation on it
records a Node. ``TracerBase`` turns values into node arguments; ``GraphAppendingTracer`` appends to an
existing Graph."""
import dis
import inspect
import operator

from .graph import Graph, magic_methods, reflectable_magic_methods
from .node import Node, map_aggregate


class TraceError(ValueError):
    """An operation that symbolic tracing cannot record (control flow on a Proxy, iterating one)."""


class Scope:
    """The module being traced: its qualified path and type."""

    def __init__(self, module_path, module_type):
        self.module_path = module_path
        self.module_type = module_type


class TracerBase:
    """Creates nodes and proxies in ``self.graph``."""
    graph: Graph
    record_stack_traces = False
    check_mutable_operations = False
    trace_asserts = False
    proxy_buffer_attributes = False
    traced_func_name = "forward"

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        """Add a node to the graph (override to tag or redirect nodes)."""
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        scope = getattr(self, "scope", None)
        if scope is not None and hasattr(self, "node_name_to_scope"):
            self.node_name_to_scope[node.name] = (scope.module_path, scope.module_type)
        module_stack = getattr(self, "module_stack", None)
        if module_stack:
            node.meta["nn_module_stack"] = dict(module_stack)
        return node

    def proxy(self, node):
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        """Record an operation on proxies/values as a node and return the Proxy of its result."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if not proxy_factory_fn else proxy_factory_fn(node)

    def create_arg(self, a):
        """A value as a node argument: Proxies become their Nodes, containers are mapped, constants kept."""
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(e) for e in a])
            return tuple(self.create_arg(e) for e in a)
        if isinstance(a, list):
            return [self.create_arg(e) for e in a]
        if isinstance(a, dict):
            out = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    k = self.create_arg(k)
                    map_aggregate(k, _no_nodes)
                out[k] = self.create_arg(v)
            return out
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, Node) or a is None or a is ... or isinstance(a, _base_types()):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a "
                         "loop or as a *args or **kwargs function argument. See the torch.fx docs on "
                         "pytorch.org for a more detailed explanation of what types of control flow can be "
                         "traced, and check out the Proxy docstring for help troubleshooting Proxy iteration "
                         "errors")

    def keys(self, obj):
        return Attribute(obj, "keys")()


def _no_nodes(a):
    if isinstance(a, Node):
        raise RuntimeError(f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {a}")
    return a


def _base_types():
    import enum
    import ember
    return (str, int, float, bool, complex, ember.dtype, ember.Tensor, ember.device, type(ember.channels_last),
            type(ember.strided), enum.Enum, type)


class GraphAppendingTracer(TracerBase):
    """A tracer that appends to ``graph`` (for building or inlining code with Proxies by hand)."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.scope = Scope("", None)
        self.module_stack = {}
        self.node_name_to_scope = {}


class Proxy:
    """A value during symbolic tracing: operations on it (operators, attributes, method calls, torch
    functions) record nodes in the tracer's graph and return new Proxies."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, k):
        if k.startswith("__") and k.endswith("__"):
            raise AttributeError(k)
        return Attribute(self, k)

    @classmethod
    def __torch_function__(cls, orig_method, types, args=None, kwargs=None):
        """A torch function (or a Tensor method of a subclass) called with a Proxy among its arguments:
        recorded as a ``call_function`` node (``call_method`` for a Tensor method), as PyTorch records it."""
        from ._dispatch import find_proxy, rebound
        from ..overrides import is_tensor_method_or_property
        args, kwargs = args or (), kwargs or {}
        tracer = find_proxy(args, kwargs).tracer
        if is_tensor_method_or_property(orig_method):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        args, kwargs = rebound(orig_method, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, d):
        self.__dict__ = d

    def __deepcopy__(self, memo):
        import copy
        new = Proxy.__new__(Proxy)
        for k, v in self.__dict__.items():
            try:
                new.__dict__[k] = copy.deepcopy(v, memo)
            except Exception:
                new.__dict__[k] = copy.copy(v)
        return new

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        frame = inspect.currentframe().f_back
        for inst in dis.get_instructions(frame.f_code):
            if inst.offset == frame.f_lasti:
                if inst.opname == "UNPACK_SEQUENCE":
                    return (self[i] for i in range(inst.argval))
                break
        return self.tracer.iter(self)

    def __abs__(self):
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self):
        return self.tracer.to_bool(self)

    def keys(self):
        return self.tracer.keys(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be "
                           "recorded, please call torch.fx.wrap('len') at module scope")


class Attribute(Proxy):
    """``proxy.attr``: a method call when called, else a ``getattr`` node made on first use."""

    def __init__(self, root, attr):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


def _define_magic(method):
    def impl(*args, **kwargs):
        return args[0].tracer.create_proxy("call_function", getattr(operator, method), args, kwargs)
    impl.__name__ = f"__{method.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


def _define_reflectable(name):
    orig = f"__r{name.strip('_')}__"

    def impl(self, rhs):
        return self.tracer.create_proxy("call_function", getattr(operator, name), (rhs, self), {})
    impl.__name__ = impl.__qualname__ = orig
    setattr(Proxy, orig, impl)


for _method in magic_methods:
    _define_magic(_method)
for _name in reflectable_magic_methods:
    _define_reflectable(_name)

__all__ = ["Proxy", "Attribute", "TracerBase", "GraphAppendingTracer", "TraceError", "Scope"]
