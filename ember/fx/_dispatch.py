"""Route calls of torch functions on Proxies into the graph being built.

PyTorch does this with ``__torch_function__``, which ember's ops do not have (a check in every op would
cost every call). Instead, importing ``torch.fx`` replaces the public functions of ``torch``,
``torch.nn.functional``, ``torch.linalg`` and ``torch.special`` by wrappers that record a
``call_function`` node when an argument holds a Proxy and otherwise call the function. Code that took a
reference to one of these functions before importing ``torch.fx`` keeps the plain function.
"""
import functools
import importlib
import inspect
import types

# (ember module, torch module name) whose public functions are wrapped.
_NAMESPACES = (("ember", "torch"), ("ember.nn.functional", "torch.nn.functional"),
               ("ember.linalg", "torch.linalg"), ("ember.special", "torch.special"))
# Functions that do not compute on tensors: left alone.
_SKIP_PREFIXES = ("is_", "set_", "get_", "use_")
_SKIP = {"save", "load", "manual_seed", "seed", "initial_seed", "thread_safe_generator", "compile", "typename",
         "from_numpy", "from_dlpack", "can_cast", "promote_types", "result_type"}
# torch.nn.functional names that PyTorch implements in C++ and records with the arguments as given; the
# module is where PyTorch's generated code names them (its torch._C._nn ones are named through
# torch.nn.functional here, where ember has them). The other functional names are Python functions in
# PyTorch, which record the parameters without defaults positionally and the rest as keywords.
_F_BUILTINS = {
    "torch": ("adaptive_avg_pool1d", "avg_pool1d", "bilinear", "celu_", "channel_shuffle", "conv1d", "conv2d",
              "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "cosine_similarity", "hardshrink", "native_channel_shuffle", "pairwise_distance", "pdist",
              "pixel_shuffle", "pixel_unshuffle", "prelu", "relu_", "rrelu_", "selu_", "threshold_"),
    "torch.nn.functional": ("avg_pool2d", "avg_pool3d", "elu_", "gelu", "hardtanh_", "leaky_relu_", "linear",
                            "logsigmoid", "one_hot", "scaled_dot_product_attention", "softplus",
                            "softshrink"),
}
_F_BUILTIN_NAMES = {name for names in _F_BUILTINS.values() for name in names}

_PATHS = {}  # wrapper -> its torch name ("torch.relu")
_installed = []


def torch_path(obj):
    """The torch name of a wrapped ember function, or None."""
    try:
        return _PATHS.get(obj)
    except TypeError:
        return None


def find_proxy(args, kwargs):
    """The first Proxy inside ``args``/``kwargs`` (searching lists, tuples and dicts), or None."""
    from .proxy import Proxy
    stack = [args, kwargs]
    while stack:
        a = stack.pop()
        if isinstance(a, Proxy):
            return a
        if isinstance(a, (list, tuple)):
            stack.extend(reversed(a))
        elif isinstance(a, dict):
            stack.extend(reversed(list(a.values())))
    return None


def _has_proxy(args, kwargs):
    """Fast check for a Proxy (the common call has only Tensors and numbers)."""
    for a in args:
        if a.__class__ in _PLAIN:
            continue
        return find_proxy(args, kwargs)
    for a in kwargs.values():
        if a.__class__ not in _PLAIN:
            return find_proxy(args, kwargs)
    return None


_PLAIN = set()


def _python_style(fn):
    """For a functional PyTorch writes in Python: rebind a call as PyTorch records it (required
    parameters positionally, the others by keyword with their defaults)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = {p.kind for p in sig.parameters.values()}
    if kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
        return None

    def rebind(args, kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        pos, kw = [], {}
        for name, p in sig.parameters.items():
            if p.default is inspect.Parameter.empty and p.kind != inspect.Parameter.KEYWORD_ONLY:
                pos.append(bound.arguments[name])
            else:
                kw[name] = bound.arguments[name]
        return tuple(pos), kw
    return rebind


def _make_wrapper(fn, name, path, rebind):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        proxy = _has_proxy(args, kwargs)
        if proxy is None:
            return fn(*args, **kwargs)
        if rebind is not None:
            args, kwargs = rebind(args, kwargs)
        return proxy.tracer.create_proxy("call_function", wrapper, args, kwargs)
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__ember_fx_wrapped__ = fn
    _PATHS[wrapper] = path
    return wrapper


def install():
    """Wrap the public functions of the torch namespaces (once per process)."""
    if _installed:
        return
    import ember
    _PLAIN.update({ember.Tensor, ember.nn.Parameter, int, float, bool, str, type(None)})
    for module_name, torch_name in _NAMESPACES:
        module = importlib.import_module(module_name)
        functional = module_name == "ember.nn.functional"
        for name, value in list(vars(module).items()):
            if (name.startswith("_") or not isinstance(value, types.FunctionType) or name in _SKIP
                    or name.startswith(_SKIP_PREFIXES)):
                continue
            path, rebind = f"{torch_name}.{name}", None
            if functional:
                if name in _F_BUILTINS["torch"] and hasattr(ember, name):
                    path = f"torch.{name}"
                elif name not in _F_BUILTIN_NAMES:
                    rebind = _python_style(value)
            setattr(module, name, _make_wrapper(value, name, path, rebind))
    _installed.append(True)
