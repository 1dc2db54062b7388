"""The ``__torch_function__`` protocol: Tensor subclasses whose instances survive ops, and Tensor-like types
(subclasses or not) that take over ``torch.*``, ``torch.nn.functional``, ``torch.linalg``, ``torch.fft``,
``torch.special`` functions and Tensor methods, as PyTorch 2.13's ``torch/overrides.py`` and
``Tensor.__torch_function__`` do.

Design: plain tensors pay nothing for it.

* Tensor methods, operators and properties stay the plain functions on ``Tensor``. When a subclass whose
  ``__torch_function__`` is not ``_disabled_torch_function_impl`` is defined (``Tensor.__init_subclass__``),
  dispatching wrappers are set on that subclass for each Tensor method, operator and property it does not
  define itself: only its instances reach them. ``nn.Parameter``, sparse tensors and ember's other own
  subclasses opt out with ``_disabled_torch_function_impl`` (as ``Parameter`` does in PyTorch).
* The public functions of the torch namespaces are replaced by dispatching wrappers (:func:`install`, one
  wrapper factory for all) only once the protocol can matter: the first instance of a dispatching subclass is
  made, or ``torch.overrides`` or ``torch.fx`` is imported (fx's Proxy is a Tensor-like). Until then they are the plain functions: an always-on
  wrapper cost ~190 ns on a ~700 ns ``torch.add`` of two 4-element tensors (min of 15 interleaved runs).
  Once installed, a wrapper looks up each argument's type in a set of types known not to dispatch (Tensor,
  numbers, ...) and calls straight through.
* Dispatch follows ``torch.overrides.handle_torch_function``: the arguments (and the items of list/tuple
  arguments) whose type has an enabled ``__torch_function__``, one per type, subclasses before their
  superclasses, else left to right; each is asked in turn with ``(func, types, args, kwargs)`` until one does
  not return ``NotImplemented``; PyTorch's TypeError otherwise (a binary operator returns NotImplemented so
  that Python raises its own).
* ``DisableTorchFunctionSubclass`` (entered by the default ``Tensor.__torch_function__`` around the call) and
  ``DisableTorchFunction`` turn dispatch off in this thread.
* ``torch.overrides.TorchFunctionMode``: a per-thread stack of modes; the innermost is asked first about every
  dispatched call (plain tensors' too), with itself off the stack while it runs. While any mode is entered,
  Tensor's own methods and properties are the dispatching wrappers (push_mode); when the last is left they are
  the plain functions again.

* A plain tensor's binary pointwise op with a Tensor-like operand that is not a Tensor (``plain + like``,
  ``plain.add(like)``, fx's ``tensor + proxy``) fails to convert it, and that error path asks the Tensor-like
  (``ops._util.torch_function_operand``), as ``Tensor.add``.

  A class statement that makes a Tensor-like that is not a Tensor is such a trigger too (:func:`watch_classes`):
  Tensor-likes need no instance made through ember to be noticed.

What differs from PyTorch: a Tensor-like class made without a class statement (``type(name, bases, ns)``) is
dispatched to by ``torch.*`` functions only after another trigger (before, ember's plain error comes, except from
the ~40 functions ``_complex.real_only`` guards, logdet and most of linalg: their failure asks it,
:func:`handle_failed`), and so are functions taken before the trigger (``from torch import abs``); a
method called on a plain tensor with a subclass argument (``plain.add(sub)``) runs as the plain method (``plain + sub`` and
``torch.add(plain, sub)`` dispatch); ``super().add(...)`` inside a subclass's own ``add`` calls the plain
method; property setters are not dispatched.
"""
import functools
import importlib
import threading
import types

from . import _builtin, _shell
from ._builtin import F_BUILTINS  # noqa: F401 (read from here by fx)
from .tensor import Tensor


class _State(threading.local):
    """Per-thread depth of the disabling context managers, and the TorchFunctionMode stack (innermost last; a
    tuple replaced, never changed in place)."""
    subclass_off = 0
    all_off = 0
    modes = ()


STATE = _State()


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """``torch._C._disabled_torch_function_impl``: as a class's ``__torch_function__``, it opts the class out of
    dispatch (its instances run ops as plain tensors do)."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


class DisableTorchFunctionSubclass:
    """``torch._C.DisableTorchFunctionSubclass``: inside, no argument's ``__torch_function__`` is called (PyTorch
    2.13 skips Tensor-likes that are not subclasses too); TorchFunctionModes still run."""

    def __enter__(self):
        STATE.subclass_off += 1
        return self

    def __exit__(self, *exc):
        STATE.subclass_off -= 1
        return False


class DisableTorchFunction:
    """``torch._C.DisableTorchFunction``: inside, no ``__torch_function__`` is called, a mode's neither."""

    def __enter__(self):
        STATE.all_off += 1
        return self

    def __exit__(self, *exc):
        STATE.all_off -= 1
        return False


def _is_torch_function_enabled():
    return not (STATE.subclass_off or STATE.all_off)


def _is_torch_function_all_disabled():
    return bool(STATE.all_off)


# types whose instances never dispatch (no ``__torch_function__``, or the disabled one); grows as they are met
PLAIN = {Tensor, int, float, bool, complex, str, type(None), slice, type(Ellipsis)}


def _is_disabled(tf):
    return getattr(tf, '__func__', tf) is _disabled_torch_function_impl


def dispatches(cls):
    """Whether instances of ``cls`` dispatch (have an enabled ``__torch_function__``)."""
    if cls in PLAIN:
        return False
    tf = getattr(cls, '__torch_function__', None)
    if tf is None or _is_disabled(tf):
        if cls is not list and cls is not tuple:    # (their items are looked at)
            PLAIN.add(cls)
        return False
    return True


def _add(found, arg):
    cls = type(arg)
    if not dispatches(cls) or any(type(f) is cls for f in found):
        return
    for i, f in enumerate(found):
        if issubclass(cls, type(f)):
            found.insert(i, arg)
            return
    found.append(arg)


def overloaded_args(args, kwargs=None):
    """The arguments ``__torch_function__`` is asked on, in PyTorch's order; items of list and tuple arguments
    count (TensorList parameters)."""
    found = []
    if STATE.all_off or STATE.subclass_off:
        return found
    for a in (args if not kwargs else (*args, *kwargs.values())):
        cls = a.__class__
        if cls in PLAIN:
            continue
        if cls is list or cls is tuple:
            for item in a:
                if item.__class__ not in PLAIN:
                    _add(found, item)
        else:
            _add(found, a)
    return found


def modes_on():
    """Whether a TorchFunctionMode takes this thread's calls."""
    return bool(STATE.modes) and not STATE.all_off


def handle(public, overloaded, args, kwargs, label=None):
    """Call the innermost TorchFunctionMode's, then each overloaded argument's ``__torch_function__`` until one
    handles ``public``; PyTorch's TypeError when none does (``label`` the name its C++ dispatcher gives; None:
    a Python function's message)."""
    types_ = tuple(type(a) for a in overloaded)
    kwargs = {} if kwargs is None else kwargs
    public = _shell.PUBLIC.get(public, public)   # the gated function, once the shell dtypes' gates replaced it
    if modes_on():
        result = _mode_call(public, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        result = arg.__torch_function__(public, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    raise NoImplementation(_no_impl_message(public, overloaded, label))


def handle_failed(public, args, kwargs):
    """``public`` (a plain function, taken before :func:`install`) failed on its arguments: the result of their
    ``__torch_function__`` if one is a Tensor-like (linear_operator's LinearOperator: a library keys its handlers by
    the functions it took at import, so what the program sees for ``public``, its builtin, is what it is asked
    about); NotImplemented if none is."""
    overloaded = overloaded_args(args, kwargs)
    if not overloaded:
        return NotImplemented
    return handle(_builtin.seen(public), overloaded, args, kwargs)


def _mode_call(public, types_, args, kwargs):
    """The innermost mode's ``__torch_function__``, run with that mode off the stack (the torch calls it makes
    reach the next mode, or run plainly), as PyTorch's modes do."""
    modes = STATE.modes
    STATE.modes = modes[:-1]
    try:
        return modes[-1].__torch_function__(public, types_, args, kwargs)
    finally:
        STATE.modes = modes


_MODES_ENTERED = [0]      # modes entered and not left, in all threads: Tensor's methods are wrapped while > 0
_PLAIN_METHODS = {}       # Tensor's own attributes, set back when the last mode is left
_MODES_LOCK = threading.Lock()


def push_mode(mode):
    """``with mode:`` -- the torch namespaces dispatch (install), and while any thread has a mode, Tensor's own
    methods and properties are the dispatching wrappers (so plain tensors' ``x + 1``, ``x.sum()`` reach the mode;
    without a mode they are the plain functions again and cost nothing)."""
    install()
    with _MODES_LOCK:
        if _MODES_ENTERED[0] == 0:
            for name, value in list(vars(Tensor).items()):
                wrapper = _wrapper_for(name, value)
                if wrapper is not None:
                    _PLAIN_METHODS[name] = value
                    setattr(Tensor, name, wrapper)
        _MODES_ENTERED[0] += 1
    STATE.modes = STATE.modes + (mode,)


def pop_mode():
    """Leave the innermost mode of this thread (the last one anywhere puts Tensor's plain methods back)."""
    if not STATE.modes:
        raise RuntimeError('Trying to pop from an empty torch function mode stack')
    mode = STATE.modes[-1]
    STATE.modes = STATE.modes[:-1]
    with _MODES_LOCK:
        _MODES_ENTERED[0] -= 1
        if _MODES_ENTERED[0] == 0:
            for name, value in _PLAIN_METHODS.items():
                setattr(Tensor, name, value)
            _PLAIN_METHODS.clear()
    return mode


class NoImplementation(TypeError):
    """Every ``__torch_function__`` returned NotImplemented (a TypeError, as in PyTorch)."""


def _no_impl_message(public, overloaded, label):
    if label is None:
        name = torch_path(public) or f"{getattr(public, '__module__', '')}.{getattr(public, '__name__', public)}"
        return (f"no implementation found for '{name}' on types that implement __torch_function__: "
                f"{[type(a) for a in overloaded]}")
    lines = ''.join(f'  - tensor subclass {type(a)}\n' for a in overloaded)
    return (f"Multiple dispatch failed for '{label}'; all __torch_function__ handlers returned NotImplemented:\n\n"
            f"{lines}\nFor more information, try re-running with TORCH_LOGS=not_implemented")


# -- Tensor methods of dispatching subclasses -------------------------------------------------------------
# Tensor attributes never dispatched: construction, the protocol itself, copying and pickling (done by
# Tensor's own methods, which keep the subclass), and PyTorch's ignored methods.
_SKIP_METHODS = frozenset((
    '__new__', '__init__', '__init_subclass__', '__dict__', '__torch_function__', '__reduce_ex__', '__deepcopy__', '__hash__',
    '__iter__', '__dir__', '__delitem__', '__getattr__', '__setstate__', '__array_wrap__', 'as_subclass',
    '_make_subclass', 'new_tensor', 'new_ones', 'new_empty', 'new_full', 'new_zeros', 'new_empty_strided',
    'stride', 'unflatten'))
# reflected operators: ``plain + sub`` reaches ``sub.__radd__`` first (Python's rule for an operand whose class
# is a subclass with its own method); PyTorch reaches ``Tensor.__add__(plain, sub)``, which is dispatched instead
_REFLECTED = {f'__r{n}__': f'__{n}__' for n in ('add', 'sub', 'mul', 'truediv', 'floordiv', 'mod', 'pow', 'matmul',
                                                 'and', 'or', 'xor', 'lshift', 'rshift')}
_BINARY = frozenset(_REFLECTED) | frozenset(_REFLECTED.values()) | frozenset(
    ('__eq__', '__ne__', '__lt__', '__le__', '__gt__', '__ge__'))
_DEFAULT_NOWRAP = set()
_METHOD_WRAPPERS = {}    # name -> wrapper shared by all dispatching subclasses


def default_nowrap_functions():
    """Functions whose results the default ``__torch_function__`` leaves as they are (``.grad``)."""
    if not _DEFAULT_NOWRAP:
        _DEFAULT_NOWRAP.add(Tensor.__dict__['grad'].__get__)
    return _DEFAULT_NOWRAP


def _method_wrapper(name, fn):
    label = 'torch.Tensor.' + name

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        args = (self, *args)
        over = overloaded_args(args, kwargs)
        if not over and not modes_on():
            return fn(*args, **kwargs)
        # a mode gets this wrapper (Tensor's attribute while modes are on): its call then reaches subclasses
        return handle(method if modes_on() else fn, over, args, kwargs, label)
    return method


def _binary_wrapper(name, fn):
    """An operator: NotImplemented when nobody handles it, so that Python tries the other operand."""
    forward = Tensor.__dict__[_REFLECTED[name]] if name in _REFLECTED else None

    @functools.wraps(fn)
    def method(self, other):
        args = (other, self) if forward is not None and isinstance(other, Tensor) else (self, other)
        over = overloaded_args(args)
        if not over and not modes_on():
            return fn(self, other)
        if modes_on():
            fn_, forward_ = method, _METHOD_WRAPPERS.get(_REFLECTED.get(name), forward)
        else:
            fn_, forward_ = fn, forward
        try:
            return handle(fn_ if args[0] is self else forward_, over, args, None,
                          'torch.Tensor.' + (name if args[0] is self else _REFLECTED[name]))
        except NoImplementation:
            return NotImplemented
    return method


def _property_wrapper(name, prop):
    getter = prop.__get__

    def fget(self):
        if STATE.all_off or (STATE.subclass_off and not STATE.modes):
            return getter(self)
        over = overloaded_args((self,))
        if not over and not modes_on():
            return getter(self)
        return handle(getter, over, (self,), None, f'torch.Tensor.{name}.__get__')
    return property(fget, prop.fset, prop.fdel, prop.__doc__)


def is_dispatched_name(name):
    """Whether Tensor's attribute ``name`` (a method or property) is dispatched."""
    return name not in _SKIP_METHODS and (not name.startswith('_') or name.endswith('__'))


def _wrapper_for(name, value):
    """The dispatching stand-in of Tensor attribute ``name`` (None: not dispatched)."""
    if not is_dispatched_name(name):
        return None
    if name not in _METHOD_WRAPPERS:
        if isinstance(value, types.FunctionType):
            make = _binary_wrapper if name in _BINARY else _method_wrapper
            _METHOD_WRAPPERS[name] = make(name, value)
        elif isinstance(value, property) and value.fget is not None:
            _METHOD_WRAPPERS[name] = _property_wrapper(name, value)
        else:
            return None
    return _METHOD_WRAPPERS[name]


def subclass_defined(cls):
    """``Tensor.__init_subclass__``: give a dispatching subclass the wrappers of the Tensor attributes it
    inherits unchanged (the torch namespaces' dispatch waits for its first instance: see instance_made)."""
    tf = getattr(cls, '__torch_function__', None)
    if tf is None or _is_disabled(tf):
        return
    PLAIN.discard(cls)
    import ember
    from . import _lazy
    _lazy.resolve_all(vars(ember))   # Tensor's methods left for later get their wrappers too
    for name, value in list(vars(Tensor).items()):
        owner = next(c for c in cls.__mro__ if name in c.__dict__)
        if owner is Tensor:
            wrapper = _wrapper_for(name, value)
            if wrapper is not None:
                setattr(cls, name, wrapper)


def instance_made(cls):
    """A ``cls`` instance is being made (Tensor.__new__, as_subclass, _make_subclass, unpickling): the first of a
    dispatching class switches the torch namespaces' dispatch on. Not at class definition, so that a program
    that imports torchvision (whose tv_tensors are such classes) but never makes one keeps the plain functions."""
    if not _INSTALLED and dispatches(cls):
        install()


def _is_tensor_like_class(cls):
    """Whether ``cls``, a class just made, is a Tensor-like that is not a Tensor: it defines an enabled
    ``__torch_function__`` (a TorchFunctionMode's is asked only once pushed, and pushing installs)."""
    tf = cls.__dict__.get('__torch_function__')
    if tf is None or _is_disabled(tf) or issubclass(cls, Tensor):
        return False
    return not any(c.__name__ == 'TorchFunctionMode' and c.__module__ == 'ember.overrides' for c in cls.__mro__)


def watch_classes():
    """Switch the torch namespaces' dispatch on when a class statement makes a Tensor-like that is not a Tensor
    (linear_operator's LinearOperator, tensordict's TensorDict, the torch.overrides docs' ScalarTensor), as
    PyTorch's functions always dispatch to them: ``builtins.__build_class__`` is wrapped until then (then put back).
    Plain tensors' ops pay nothing (add, mul, matmul of (4, 4): 1142 vs 1146, 1084 vs 1098, 4651 vs 4638 ns
    before/after, min of 3x25x2000); a class statement ~0.4 us more (5.3 vs 4.9 us for ``class A: x = 1``). Tensor
    subclasses wait for their first instance (instance_made)."""
    import builtins
    build = builtins.__build_class__

    def build_class(*args, **kwargs):
        cls = build(*args, **kwargs)
        if not _INSTALLED and isinstance(cls, type) and _is_tensor_like_class(cls):
            install()
        return cls
    _WATCH.extend((build, build_class))
    builtins.__build_class__ = build_class


def _unwatch():
    """Put back the builtin class builder (unless another wrapper has wrapped ours since)."""
    import builtins
    if _WATCH and builtins.__build_class__ is _WATCH[1]:
        builtins.__build_class__ = _WATCH[0]


def default_torch_function(cls, func, types_, args=(), kwargs=None):
    """``Tensor.__torch_function__``: run ``func`` with subclass dispatch off and give Tensor results the
    class ``cls`` (``as_subclass``), as PyTorch's default does."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types_):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if _in(func, default_nowrap_functions()):
            return ret
        return convert(ret, cls)


def _in(func, functions):
    try:
        return func in functions
    except TypeError:   # an unhashable callable
        return False


def convert(ret, cls):
    """``torch._tensor._convert``: Tensors in ``ret`` (nested in tuples and lists) as ``cls``."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        ret = ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        items = [convert(r, cls) for r in ret]
        if type(ret) in (tuple, list):
            return type(ret)(items)
        if hasattr(type(ret), '_fields'):    # named tuples (torch.return_types)
            return type(ret)(*items)
        return type(ret)(items)
    return ret


# -- the torch namespaces' functions ---------------------------------------------------------------------
# (ember module, torch module name, the C++ name prefix PyTorch's dispatcher reports)
NAMESPACES = (('ember', 'torch', 'torch.'), ('ember.nn.functional', 'torch.nn.functional', None),
              ('ember.linalg', 'torch.linalg', 'torch.linalg.linalg_'), ('ember.special', 'torch.special',
                                                                         'torch.special.special_'),
              ('ember.fft', 'torch.fft', 'torch.fft.fft_'))
# functions that take no tensors to dispatch on
_SKIP_PREFIXES = ('is_', 'set_', 'get_', 'use_')
_SKIP = frozenset(('save', 'load', 'manual_seed', 'seed', 'initial_seed', 'thread_safe_generator', 'compile',
                   'typename', 'from_numpy', 'from_dlpack', 'can_cast', 'promote_types', 'result_type', 'vmap',
                   'set_printoptions', 'is_tensor', 'is_storage'))
_SPREAD = frozenset(('einsum',))     # see _function_wrapper
_PATHS = {}        # wrapper -> its torch name ('torch.relu')
_ORIGINALS = {}    # wrapper -> the plain function
_INSTALLED = []
_WATCH = []        # the builtin class builder and watch_classes' wrapper of it, while it is in place


def _label(name, torch_name, prefix):
    if prefix is not None:
        return prefix + name
    if name in F_BUILTINS['torch']:
        return 'torch.' + name
    if name in F_BUILTINS['torch.nn.functional']:
        return 'torch.nn.' + name
    return None


def _function_wrapper(fn, label, spread=False):
    """The dispatching stand-in of ``fn``; ``spread``: a list of operands after the first argument is spread into
    separate arguments before dispatch, as torch.functional.einsum does for its old form ``einsum(eq, [a, b])``
    (so that fx records ``einsum(eq, a, b)``, which opt_einsum_fx reads; opt_einsum calls the old form)."""
    def wrapper(*args, **kwargs):
        for a in args:
            if a.__class__ not in PLAIN:
                break
        else:
            if not kwargs and not STATE.modes:
                return fn(*args)
        if spread and len(args) == 2 and isinstance(args[1], (list, tuple)):
            args = (args[0], *args[1])
        over = overloaded_args(args, kwargs)
        if not over and not modes_on():
            return fn(*args, **kwargs)
        # __torch_function__ gets what the program sees as torch.add: the gate put over this wrapper (_shell), as
        # the builtin holding it where PyTorch's is a builtin
        return handle(_builtin.seen(_shell.PUBLIC.get(wrapper, wrapper)), over, args, kwargs, label)
    functools.update_wrapper(wrapper, fn)
    # MONAI's SwinUNETR reads torch.meshgrid.__kwdefaults__ to learn whether `indexing=` is accepted
    wrapper.__kwdefaults__ = fn.__kwdefaults__
    return wrapper


def install():
    """Replace the public functions of the torch namespaces by dispatching wrappers (once per process). Code
    that took a function before keeps the plain one."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    _unwatch()
    import ember
    from . import _lazy
    _lazy.resolve_all(vars(ember))   # the names ``import ember`` left for later get their wrappers too
    PLAIN.update((ember.dtype, ember.device, ember.Size, ember.layout, ember.memory_format))
    # a function a program put in a torch namespace is not PyTorch's, so it dispatches nothing: fastai sets
    # ``torch.as_subclass = torch.Tensor.as_subclass`` (then patches the method) and calls it inside
    # __torch_function__, where a dispatching wrapper would recurse
    undispatched = {'Tensor.' + n for n in _SKIP_METHODS}
    for module_name, torch_name, prefix in NAMESPACES:
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            value = _builtin.function(value)
            if (name.startswith('_') or not isinstance(value, types.FunctionType) or name in _SKIP
                    or name.startswith(_SKIP_PREFIXES) or value.__qualname__ in undispatched
                    or not (value.__module__ or '').startswith('ember')):
                continue
            if module_name == 'ember.nn.functional' and name in F_BUILTINS['torch'] and hasattr(ember, name):
                continue     # torch.<name> itself, shared below
            path = f'{torch_name}.{name}'
            wrapper = _function_wrapper(value, _label(name, torch_name, prefix), spread=name in _SPREAD)
            # named as in its namespace (torch.arctan, not its implementation atan), pickled by reference as itself
            wrapper.__module__, wrapper.__name__, wrapper.__qualname__ = module_name, name, name
            _PATHS[wrapper] = path
            _ORIGINALS[wrapper] = value
            setattr(module, name, _builtin.public(wrapper, module_name, name))
    _builtin.share(vars(ember.nn.functional))


def torch_path(obj):
    """The torch name of a wrapped function ('torch.relu'), also seen through another wrapper of it (the
    profiler's, while it records), or None."""
    obj = _builtin.function(obj)
    for _ in range(3):
        try:
            path = _PATHS.get(obj)
        except TypeError:
            return None
        if path is not None or not hasattr(obj, '__wrapped__'):
            return path
        obj = obj.__wrapped__
    return None
