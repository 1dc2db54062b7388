"""Symbolic tracing: ``Tracer`` runs a module's ``forward`` on Proxies and records what it does as a
Graph; ``symbolic_trace`` wraps the result in a GraphModule; ``wrap`` keeps a function as one node.

As ``torch.fx._symbolic_trace`` this module also gives the internals that libraries re-implementing
``Tracer.trace`` use (PyG's ``torch_geometric.nn.fx``, behind ``to_hetero``): ``_Patcher`` (a context manager),
``_orig_module_call``/``_orig_module_getattr``, ``_patch_wrapped_functions``, ``_autowrap_check``,
``compatibility``, ``ScriptObject``, and the ``functools``/``FunctionType``/``Proxy`` names it reads from here."""
import builtins
import functools
import inspect
import math
from types import FunctionType  # noqa: F401 (read from here as torch.fx._symbolic_trace.FunctionType)

from ._dispatch import find_proxy, install
from .graph import Graph
from .graph_module import GraphModule
from .proxy import Proxy, Scope, TracerBase

_wrapped_fns_to_patch = {}  # (id(globals), name) -> globals, filled by wrap()
_is_fx_tracing_flag = False


def _module_methods():
    import ember
    return ember.nn.Module.__call__, ember.nn.Module.__getattr__


_orig_module_call, _orig_module_getattr = _module_methods()


def compatibility(is_backward_compatible):
    """``torch.fx._compatibility.compatibility``: a decorator marking fx API stability; it changes nothing."""
    return lambda fn: fn


class ScriptObject:
    """``torch.ScriptObject``, an instance of a TorchScript class: ember has no TorchScript, so none exists and
    ``isinstance(x, ScriptObject)`` is False (tracers test tensor attributes with it)."""


def is_fx_tracing():
    """True while a symbolic trace runs."""
    return _is_fx_tracing_flag


class _Patcher:
    """Patches attributes for the duration of a trace and undoes them in reverse order."""

    def __init__(self):
        self._undo = []
        self._visited = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.undo()
        return False

    def patch(self, where, name, new):
        """Set ``where[name] = new`` (a dict such as a module's globals)."""
        missing = object()
        old = where.get(name, missing)
        where[name] = new
        self._undo.append(lambda: where.pop(name) if old is missing else where.__setitem__(name, old))

    def patch_method(self, cls, name, new, deduplicate=True):
        """Set ``cls.name = new`` until undone (``deduplicate``: PyTorch skips a method it patched already;
        each patch here is undone in turn, so patching twice is harmless)."""
        old = cls.__dict__.get(name)
        setattr(cls, name, new)
        self._undo.append(lambda: setattr(cls, name, old) if old is not None else delattr(cls, name))

    def visit_once(self, thing):
        if id(thing) in self._visited:
            return False
        self._visited.add(id(thing))
        return True

    def undo(self):
        while self._undo:
            self._undo.pop()()


def _create_wrapped_func(orig_fn):
    """The function as a trace sees it: a ``call_function`` node when an argument holds a Proxy."""
    @functools.wraps(orig_fn)
    def wrapped(*args, **kwargs):
        proxy = find_proxy(args, kwargs)
        if proxy is not None:
            out = proxy.tracer.create_proxy("call_function", orig_fn, args, kwargs)
            out.node.meta["is_wrapped"] = True
            return out
        return orig_fn(*args, **kwargs)
    return wrapped


def wrap(fn_or_name):
    """Called at module scope: record calls of this global function as one ``call_function`` node instead
    of tracing through it (``torch.fx.wrap('len')`` or ``torch.fx.wrap(my_fn)``)."""
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError("Unsupported type for global function! Must be either a callable or string name")
    fn_name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    f = inspect.currentframe().f_back
    if f.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(f.f_globals), fn_name)] = f.f_globals
    return fn_or_name


class Tracer(TracerBase):
    """Records a module's ``forward`` (or a function) as a Graph. Subclass it and override
    ``is_leaf_module``, ``call_module``, ``create_proxy``, ``create_node`` or ``create_arg`` to change
    what is recorded."""

    def __init__(self, autowrap_modules=(math,), autowrap_functions=(), param_shapes_constant=False):
        super().__init__()
        install()
        self._autowrap_function_ids = {id(v) for m in autowrap_modules for k, v in m.__dict__.items()
                                       if not k.startswith("_") and callable(v)}
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_search = list(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths = None
        self.root_module_name = ""
        self.scope = Scope("", None)
        self.module_stack = {}
        self.num_calls = {}
        self.node_name_to_scope = {}

    # -- hooks a subclass may override ------------------------------------------------------------------
    def is_leaf_module(self, m, module_qualified_name):
        """Modules of torch.nn (except Sequential) are recorded as one ``call_module`` node."""
        import ember
        module = type(m).__module__
        return (module.startswith(("ember.nn", "torch.nn", "torch.ao.nn"))
                and not isinstance(m, ember.nn.Sequential))

    def path_of_module(self, mod):
        """The qualified name of submodule ``mod`` in the root module."""
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward, args, kwargs):
        """A submodule call: a ``call_module`` node for a leaf module, else trace through ``forward``."""
        qualname = self.path_of_module(m)
        old_scope = self.scope
        self.scope = Scope(qualname, type(m))
        num_calls = self.num_calls.get(qualname, 0)
        key = f"{qualname}@{num_calls}" if num_calls > 0 else qualname
        self.module_stack[key] = (qualname, type(m))
        self.num_calls[qualname] = num_calls + 1
        try:
            if not self.is_leaf_module(m, qualname):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", qualname, args, kwargs)
        finally:
            self.module_stack.pop(key, None)
            self.scope = old_scope

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """A module attribute read during the trace: a ``get_attr`` proxy for a parameter of the root."""
        import ember
        if isinstance(attr_val, ember.nn.Parameter):
            for n, p in self.root.named_parameters():
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {})
                    return parameter_proxy_cache[n]
        if self.proxy_buffer_attributes and isinstance(attr_val, ember.Tensor):
            for n, p in self.root.named_buffers():
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {})
                    return parameter_proxy_cache[n]
        return attr_val

    def create_arg(self, a):
        """Parameters, buffers and submodules of the root become ``get_attr`` nodes; other tensors become
        constants (``_tensor_constant0``) set on the root."""
        import ember
        if isinstance(a, ember.nn.Parameter):
            for n, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, ember.Tensor):
            for n, p in self.root.named_buffers():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
            qualname = self.tensor_attrs.get(a)
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                self.tensor_attrs[a] = qualname
                setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        if isinstance(a, ember.nn.Module):
            for n, p in self.root.named_modules():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return self.create_node("call_function", a.__class__, tuple(self.create_arg(e) for e in a), {})
        return super().create_arg(a)

    def get_fresh_qualname(self, prefix):
        i = 0
        while hasattr(self.root, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    # -- the trace ---------------------------------------------------------------------------------------
    def create_args_for_root(self, root_fn, is_module, concrete_args=None):
        """Placeholders for the parameters of ``root_fn`` (after ``self`` for a module)."""
        code = inspect.unwrap(root_fn).__code__
        names = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
        args = [self.root] if is_module else []
        if is_module:
            names = names[1:]
        sig = inspect.signature(inspect.unwrap(root_fn))
        if isinstance(concrete_args, tuple):
            concrete_args = dict(zip(names, concrete_args))
        concrete_args = concrete_args or {}
        values = {}
        for name in names:
            if name in concrete_args:
                values[name] = concrete_args[name]
                continue
            param = sig.parameters.get(name)
            default = () if param is None or param.default is inspect.Parameter.empty else (param.default,)
            values[name] = self.create_proxy("placeholder", name, default, {},
                                             type_expr=inspect.unwrap(root_fn).__annotations__.get(name))
        kwonly = set(code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount])
        args.extend(v for k, v in values.items() if k not in kwonly)
        kwargs = {k: v for k, v in values.items() if k in kwonly}
        extra = code.co_argcount + code.co_kwonlyargcount
        if code.co_flags & inspect.CO_VARARGS:
            args.append(self.create_proxy("placeholder", "*" + code.co_varnames[extra], (), {}))
        if kwargs:
            return functools.partial(root_fn, **kwargs), args
        return root_fn, args

    def trace(self, root, concrete_args=None):
        """Run ``root`` (a Module's forward, or a function) on Proxies; returns the Graph recorded."""
        import ember
        global _is_fx_tracing_flag
        old_flag, _is_fx_tracing_flag = _is_fx_tracing_flag, True
        try:
            if isinstance(root, ember.nn.Module):
                self.root = root
                fn = getattr(type(root), self.traced_func_name)
                self.root_module_name = root._get_name()
                self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            else:
                self.root = ember.nn.Module()
                fn = root
            self.graph = Graph(tracer_cls=getattr(self, "__class__", None))
            self.tensor_attrs = {}
            _collect_tensor_attrs(self.root, [], self.tensor_attrs)
            fn_globals = fn.__globals__
            fn, args = self.create_args_for_root(fn, isinstance(root, ember.nn.Module), concrete_args)
            patcher = _Patcher()
            try:
                self._patch_for_trace(patcher, fn_globals)
                result = fn(*args)
                ann = getattr(inspect.unwrap(fn), "__annotations__", {})
                self.create_node("output", "output", (self.create_arg(result),), {},
                                 type_expr=ann.get("return", None))
            finally:
                patcher.undo()
            self.submodule_paths = None
        finally:
            _is_fx_tracing_flag = old_flag
        return self.graph

    def _patch_for_trace(self, patcher, fn_globals):
        """Route submodule calls and parameter reads through the tracer, and wrap the wrap()ed functions."""
        import ember
        module_cls = ember.nn.Module
        orig_call, orig_getattr = _orig_module_call, _orig_module_getattr
        parameter_proxy_cache = {}
        tracer = self

        def module_getattr_wrapper(mod, attr):
            return tracer.getattr(attr, orig_getattr(mod, attr), parameter_proxy_cache)

        def module_call_wrapper(mod, *args, **kwargs):
            def forward(*args, **kwargs):
                return orig_call(mod, *args, **kwargs)
            _autowrap_check(patcher, getattr(getattr(mod, "forward", mod), "__globals__", {}),
                            tracer._autowrap_function_ids)
            return tracer.call_module(mod, forward, args, kwargs)
        patcher.patch_method(module_cls, "__getattr__", module_getattr_wrapper)
        patcher.patch_method(module_cls, "__call__", module_call_wrapper)
        _patch_wrapped_functions(patcher)
        _autowrap_check(patcher, fn_globals, self._autowrap_function_ids)
        for module in self._autowrap_search:
            _autowrap_check(patcher, module.__dict__, self._autowrap_function_ids)


def _patch_wrapped_functions(patcher):
    """Make the functions given to ``wrap()`` record one ``call_function`` node each for this trace."""
    for (_, name), frame_dict in list(_wrapped_fns_to_patch.items()):
        orig = getattr(builtins, name) if name not in frame_dict and hasattr(builtins, name) else frame_dict[name]
        patcher.patch(frame_dict, name, _create_wrapped_func(orig))


def _collect_tensor_attrs(m, prefix, out):
    """Plain tensor attributes of ``m`` and its children (not parameters or buffers), keyed by the tensor (as
    PyTorch's ``tensor_attrs``, which tracers fill themselves): a trace refers to them by their path (``get_attr
    c``) instead of making a ``_tensor_constant``."""
    import ember
    for k, v in m.__dict__.items():
        if isinstance(v, ember.Tensor):
            out[v] = ".".join(prefix + [k])
    for k, v in m.named_children():
        _collect_tensor_attrs(v, prefix + [k], out)


def _autowrap_check(patcher, frame_dict, function_ids):
    """Wrap the autowrapped functions (``math``'s) found in ``frame_dict`` for this trace."""
    if patcher.visit_once(frame_dict):
        for name, value in list(frame_dict.items()):
            if not name.startswith("_") and callable(value) and id(value) in function_ids:
                patcher.patch(frame_dict, name, _create_wrapped_func(value))


def symbolic_trace(root, concrete_args=None):
    """Trace ``root`` (a Module or function) into a GraphModule."""
    import ember
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = root.__class__.__name__ if isinstance(root, ember.nn.Module) else root.__name__
    return GraphModule(tracer.root, graph, name)


class PHBase:
    """Placeholder marker for ``concrete_args``."""

    def __repr__(self):
        return "PH"


PH = PHBase()

__all__ = ["Tracer", "symbolic_trace", "wrap", "PH", "is_fx_tracing"]
