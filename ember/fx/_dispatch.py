"""How a torch function called on Proxies becomes a ``call_function`` node: ``Proxy.__torch_function__`` (as
PyTorch's), reached through the one ``__torch_function__`` mechanism of ``ember._torch_function``, which
importing ``torch.fx`` switches on. Code that took a reference to a torch function before that keeps the plain
function.
"""
import inspect

from .. import _torch_function
from .._torch_function import F_BUILTINS

_F_BUILTIN_NAMES = {name for names in F_BUILTINS.values() for name in names}
_REBINDS = {}   # function -> its rebind (or None)


def torch_path(obj):
    """The torch name of a wrapped ember function, or None."""
    return _torch_function.torch_path(obj)


def install():
    """Switch the torch namespaces' ``__torch_function__`` dispatch on (once per process)."""
    _torch_function.install()


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


def rebound(func, args, kwargs):
    """``args``/``kwargs`` of a call of ``func`` as the node records them: torch.nn.functional's Python
    functions bind theirs as PyTorch's do, the others keep them as given."""
    if func not in _REBINDS:
        path = torch_path(func) or ''
        python = path.startswith('torch.nn.functional.') and func.__name__ not in _F_BUILTIN_NAMES
        _REBINDS[func] = _python_style(func) if python else None
    rebind = _REBINDS[func]
    return rebind(args, kwargs) if rebind is not None else (args, kwargs)
