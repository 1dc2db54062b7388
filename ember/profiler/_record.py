"""Recording op events while a profiler runs.

ember's ops carry no profiling hooks (a check in every op would cost every call). While a profiler
records, the public functions of ``torch``, ``torch.nn.functional``, ``torch.linalg`` and
``torch.special`` run timing wrappers beneath their names: each function object keeps its identity
(``reduce_fx is torch.mean`` holds, as PyTorch Lightning's logging checks) and gets a trampoline as its code
that calls the wrapper, its own code back when recording stops. The Tensor methods and operators, the
forwards of the built-in layers, the grad_fn backward functions and the optimizers' ``step``/``zero_grad``
are replaced on their classes by timing wrappers. Each wrapper adds an event named as PyTorch names it
(``aten::add``, ``AddBackward0``, ``Optimizer.step#SGD.step``). Events nested inside an op (PyTorch's
``aten::relu`` -> ``aten::clamp_min``) are PyTorch's, as placeholders (see _children), and those ember's own
op calls through these names.
"""
import functools
import importlib
import inspect
import sys
import threading
import time
import types

import numpy as np

from . import _children
from .. import _builtin

_NAMESPACES = ("ember", "ember.nn.functional", "ember.linalg", "ember.special")
_SKIP_PREFIXES = ("is_", "set_", "get_", "use_", "_")
_SKIP = {"save", "load", "manual_seed", "seed", "initial_seed", "compile", "typename", "no_grad",
         "enable_grad", "inference_mode", "set_grad_enabled", "from_numpy"}
# PyTorch's aten names where they differ from the Python name.
_ATEN = {"cross_entropy": "cross_entropy_loss", "nll_loss": "nll_loss_nd", "__getitem__": "index",
         "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__rsub__": "rsub",
         "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__truediv__": "div",
         "__rtruediv__": "reciprocal", "__itruediv__": "div_", "__matmul__": "matmul", "__rmatmul__": "matmul",
         "__pow__": "pow", "__rpow__": "pow", "__neg__": "neg", "__abs__": "abs", "__floordiv__": "floor_divide",
         "__mod__": "remainder", "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__eq__": "eq",
         "__ne__": "ne", "__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor",
         "__invert__": "bitwise_not", "norm": "linalg_vector_norm", "float": "to", "double": "to", "half": "to",
         "long": "to", "int": "to",
         "bool": "to", "cpu": "to", "type_as": "to", "reshape": "reshape", "flatten": "flatten"}
_TENSOR_SKIP = {"size", "dim", "ndimension", "numel", "nelement", "stride", "storage_offset", "data_ptr",
                "element_size", "tolist", "numpy", "backward", "register_hook", "retain_grad", "requires_grad_",
                "get_device", "storage", "untyped_storage", "type", "item", "is_contiguous", "dim_order",
                "share_memory_", "pin_memory", "register_post_accumulate_grad_hook", "__dlpack__",
                "__dlpack_device__", "__deepcopy__", "__reduce_ex__", "__setstate__", "__getstate__",
                "__array__", "__array_wrap__", "__format__", "__repr__", "__str__", "__hash__", "__len__",
                "__iter__", "__bool__", "__int__", "__float__", "__index__", "__contains__", "__setitem__",
                "__init__", "__new__", "__del__", "__getattr__", "__setattr__", "__delattr__", "__dir__",
                "__reversed__", "__complex__", "__class_getitem__", "__init_subclass__", "__subclasshook__",
                "__sizeof__", "__reduce__", "__copy__"}
# Built-in layers whose forward is one aten op in PyTorch: the op's name and its arguments in the aten schema's
# order, for the recorded input shapes: 0 and 1 the forward's first and second arguments, a string the module's
# tensor attribute of that name, None an argument that is not a tensor (PyTorch records [] for it).
_CONV = (0, "weight", "bias", None, None, None, None)
_CONV_T = _CONV + (None,)
_BN = (0, "weight", "bias", "running_mean", "running_var", None, None, None, None)
_RNN = (0, 1, None, None, None, None, None, None, None)
_LAYERS = {"Linear": ("linear", (0, "weight", "bias")), "Bilinear": ("bilinear", (0, 1, "weight", "bias")),
           "Conv1d": ("conv1d", _CONV), "Conv2d": ("conv2d", _CONV), "Conv3d": ("conv3d", _CONV),
           "ConvTranspose1d": ("conv_transpose1d", _CONV_T), "ConvTranspose2d": ("conv_transpose2d", _CONV_T),
           "ConvTranspose3d": ("conv_transpose3d", _CONV_T), "BatchNorm1d": ("batch_norm", _BN),
           "BatchNorm2d": ("batch_norm", _BN), "BatchNorm3d": ("batch_norm", _BN),
           "LayerNorm": ("layer_norm", (0, None, "weight", "bias", None, None)),
           "GroupNorm": ("group_norm", (0, None, "weight", "bias", None, None)),
           "Embedding": ("embedding", ("weight", 0, None, None, None)), "Dropout": ("dropout", (0, None, None)),
           "MaxPool1d": ("max_pool1d", (0,) + (None,) * 5), "MaxPool2d": ("max_pool2d", (0,) + (None,) * 5),
           "AvgPool1d": ("avg_pool1d", (0,) + (None,) * 5), "AvgPool2d": ("avg_pool2d", (0,) + (None,) * 6),
           "AdaptiveAvgPool2d": ("adaptive_avg_pool2d", (0, None)), "Flatten": ("flatten", (0, None, None)),
           "CrossEntropyLoss": ("cross_entropy_loss", (0, 1, "weight", None, None, None)),
           "MSELoss": ("mse_loss", (0, 1, None)), "NLLLoss": ("nll_loss_nd", (0, 1, "weight", None, None)),
           "ReLU": ("relu", (0,)), "GELU": ("gelu", (0, None)), "Tanh": ("tanh", (0,)), "Sigmoid": ("sigmoid", (0,)),
           "Softmax": ("softmax", (0, None, None)), "LogSoftmax": ("log_softmax", (0, None, None)),
           "LSTM": ("lstm", _RNN), "GRU": ("gru", _RNN), "RNN": ("rnn_tanh", _RNN)}

_now_us = (lambda: time.perf_counter_ns() / 1000.0)


class _Session:
    """The events of one recording, and the originals of what its wrappers replaced."""

    def __init__(self, record_shapes=False, profile_memory=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.base_us = _now_us()  # event times are shown from the start of the recording
        self.events = []  # [name, start_us, end_us, thread, shapes, kind, bytes allocated]
        self.lock = threading.Lock()

    def add(self, name, start, end, args=(), kind="cpu_op", result=None, inputs=None):
        """One event; its input shapes from ``args``, its memory from ``result`` less what ``inputs`` (default
        ``args``) hold."""
        shapes = _shapes(args, name) if self.record_shapes else []
        nbytes = _allocated(args if inputs is None else inputs, result) \
            if self.profile_memory and result is not None else 0
        with self.lock:
            self.events.append([name, start, end, threading.get_native_id(), shapes, kind, nbytes])


# The number of arguments of PyTorch's aten schema for ops called without their trailing defaults (a + b is
# aten::add(self, other, alpha)): their recorded shapes end in [] for each default left out.
# The functionals listed take their arguments in the aten schema's order (F.batch_norm and F.embedding do not).
_ARITY = {"aten::add": 3, "aten::add_": 3, "aten::sub": 3, "aten::sub_": 3, "aten::rsub": 3, "aten::clone": 2,
          "aten::addmm": 5, "aten::flatten": 3, "aten::softmax": 3, "aten::log_softmax": 3, "aten::dropout": 3,
          "aten::conv1d": 7, "aten::conv2d": 7, "aten::conv3d": 7, "aten::linear": 3, "aten::max_pool1d": 6,
          "aten::max_pool2d": 6, "aten::avg_pool1d": 6, "aten::avg_pool2d": 7, "aten::adaptive_avg_pool2d": 2,
          "aten::gelu": 2, "aten::layer_norm": 6, "aten::group_norm": 6, "aten::mse_loss": 3,
          "aten::cross_entropy_loss": 6, "aten::nll_loss_nd": 5}


def _shapes(args, name=None):
    import ember
    shapes = [list(a.shape) if isinstance(a, ember.Tensor) else [] for a in args]
    return shapes + [[]] * (_ARITY.get(name, 0) - len(shapes))


def _arrays(x, out, depth=0):
    """The arrays of the tensors (and gradient arrays) in ``x``, searching lists, tuples and dicts."""
    import ember
    if isinstance(x, ember.Tensor):
        out.append(x._data)
    elif isinstance(x, np.ndarray):
        out.append(x)
    elif isinstance(x, (list, tuple, dict)) and depth < 3:
        for v in (x.values() if isinstance(x, dict) else x):
            _arrays(v, out, depth + 1)
    return out


def _allocated(args, result):
    """The bytes an op allocated, as profile_memory counts them: its outputs' arrays that hold none of its inputs'
    memory (PyTorch's CPU Mem is what an op allocates less what it frees, for an op its new outputs; a view or
    an in-place op allocates nothing)."""
    inputs = _arrays(args, [])
    seen, total = [], 0
    for a in _arrays(result, []):
        if any(np.may_share_memory(a, b) for b in inputs) or any(np.may_share_memory(a, b) for b in seen):
            continue
        seen.append(a)
        total += a.nbytes
    return total


_ACTIVE = []  # the recording sessions (nested profilers each get the events)
_PATCHES = []  # (owner, name, original, wrapper) while wrappers are installed


def active():
    return bool(_ACTIVE)


def add_event(name, start, end, args=(), kind="cpu_op", result=None, inputs=None):
    for session in _ACTIVE:
        session.add(name, start, end, args, kind, result, inputs)


def _timed(fn, record, kwargs_too=False):
    """``fn`` that, while a profiler records, calls ``record(args, start_us, end_us, result)`` after each call
    (``result`` None when it raised; ``kwargs_too``: the call's keyword arguments after it)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _ACTIVE:
            return fn(*args, **kwargs)
        start = _now_us()
        result = None
        try:
            result = fn(*args, **kwargs)
            return result
        finally:
            if kwargs_too:
                record(args, start, _now_us(), result, kwargs)
            else:
                record(args, start, _now_us(), result)
    wrapper.__ember_profiled__ = fn
    return wrapper


def _op_event(fn, name):
    """``fn`` adding an event ``name`` per call, its input shapes from the arguments, and the events PyTorch's
    op makes inside (see _children)."""
    def record(args, start, end, result, kwargs):
        names = _children.getitem_names(args[1]) if name == 'aten::index' and len(args) == 2 else None
        if names is None:
            add_event(name, start, end, args, result=result)
            if result is not None:
                _add_children(name, start, end, args, kwargs, result)
            return
        step = (end - start) / max(len(names), 1)     # basic indexing: PyTorch's view ops one after another
        for i, view in enumerate(names):
            add_event(view, start + i * step, start + (i + 1) * step, args[:1], result=result)
            _add_children(view, start + i * step, start + (i + 1) * step, args[:1], kwargs, result)
    return _timed(fn, record, kwargs_too=True)


_CHILD_US = 0.01     # each placeholder child event's share of its parent's time (see _children)


def _add_children(name, start, end, args, kwargs, result):
    """PyTorch's nested events of op ``name`` (``_children``), laid out at the start of [start, end]: a node
    with n events below it spans (n + 1) * _CHILD_US, its children one after another after its first step, so
    that the profiler's interval nesting rebuilds the tree."""
    if name == 'aten::to' and result is (args[0] if args else None):
        return
    nodes = _children.tree(name, args, kwargs)
    if not nodes or end - start < (_children.size(nodes) + 2) * _CHILD_US:
        return

    def place(nodes, k):
        for child, below in nodes:
            n = _children.size(below)
            add_event(child, start + k * _CHILD_US, start + (k + n + 1) * _CHILD_US)
            place(below, k + 1)
            k += n + 1
    place(nodes, 1)


def _layer_event(forward, aten, schema):
    """A layer's ``forward`` adding the event of its aten op, the shapes of that op's arguments (``schema``, see
    ``_LAYERS``); ReLU(inplace=True) records ``aten::relu_``."""
    def record(args, start, end, result):
        module, given = args[0], args[1:]
        name = aten + "_" if aten == "relu" and module.inplace else aten
        shapes = [given[s] if isinstance(s, int) and s < len(given) else
                  getattr(module, s, None) if isinstance(s, str) else None for s in schema]
        inner = _ACTIVE[0].events[-1] if _ACTIVE[0].events else None
        add_event("aten::" + name, start, end, shapes, result=result)
        if result is not None and (inner is None or inner[1] < start):   # no op event of its own inside
            _add_children("aten::" + name, start, end, shapes, {}, result)
    return _timed(forward, record)


def _set(owner, name, value):
    _PATCHES.append((owner, name, owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name),
                     value))
    setattr(owner, name, value)


# the modules of ember's op implementations, and the profiler's own (a Tensor method's timing wrapper calls the
# function that is also torch's: x.t() is ember.t)
_OP_CODE = ("ember.profiler", "ember.ops", "ember.nn.functional", "ember.linalg", "ember.special", "ember.fft", "ember.tensor",
            "ember.autograd", "ember.amp", "ember.backend", "ember._bf16", "ember._complex", "ember._sparse",
            "ember._linalg", "ember._lu", "ember._foreach", "ember._householder", "ember._ldl", "ember._lowrank",
            "ember._segment", "ember._tensor_str", "ember._dtype")
_SWAPPED = {}    # public function -> (its code, its keyword defaults) while its code is a trampoline
_TRAMPOLINES = {}   # number of free variables -> trampoline code


def _trampoline(nfree):
    """Code that calls its keyword-only default ``_ember_profiled`` with its arguments, with ``nfree`` free
    variables: a function's ``__code__`` can only be swapped for code with as many as its closure has cells."""
    code = _TRAMPOLINES.get(nfree)
    if code is None:
        names = [f"_f{i}" for i in range(nfree)]
        lines = ["def outer():"] + [f"    {n} = None" for n in names] + [
            "    def trampoline(*args, _ember_profiled=None, **kwargs):",
            "        " + ", ".join(names) if names else "        pass",
            "        return _ember_profiled(*args, **kwargs)",
            "    return trampoline"]
        scope = {}
        exec("\n".join(lines), scope)
        code = _TRAMPOLINES[nfree] = scope["outer"]().__code__
    return code


def _swap(fn, name):
    """Run public function ``fn`` under a timing wrapper for ``name`` from now on, the object kept: a copy of it
    is wrapped, and ``fn``'s code becomes a trampoline to the wrapper (``_unswap`` gives its code back)."""
    if fn in _SWAPPED or fn.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE):
        return
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__, copy.__qualname__ = fn.__kwdefaults__, fn.__qualname__
    copy.__dict__.update(fn.__dict__)
    timed = _op_event(copy, name)

    def entry(*args, **kwargs):
        # a call from the code of ember's ops is a step of an op, not one the program made: F.relu runs
        # ember.relu's function (ember's layers, models and optimizers call ops as a program does)
        if sys._getframe(2).f_globals.get("__name__", "").startswith(_OP_CODE):
            return copy(*args, **kwargs)
        return timed(*args, **kwargs)
    _SWAPPED[fn] = (fn.__code__, fn.__kwdefaults__)
    fn.__code__ = _trampoline(len(fn.__code__.co_freevars))
    fn.__kwdefaults__ = {"_ember_profiled": entry}


def _unswap():
    for fn, (code, kwdefaults) in _SWAPPED.items():
        fn.__code__, fn.__kwdefaults__ = code, kwdefaults
    _SWAPPED.clear()


def _install():
    """Put the timing wrappers in place (first session only)."""
    import ember
    for module_name in _NAMESPACES:
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            value = _builtin.function(value)   # (a builtin calls the function whose code is swapped)
            if isinstance(value, types.FunctionType) and name not in _SKIP and not name.startswith(_SKIP_PREFIXES):
                _swap(value, "aten::" + _ATEN.get(name, name))
    for name, value in list(vars(ember.Tensor).items()):
        if callable(value) and not isinstance(value, type) and name not in _TENSOR_SKIP and \
                (not name.startswith("_") or name in _ATEN) and not isinstance(value, (staticmethod, classmethod)):
            _set(ember.Tensor, name, _op_event(value, "aten::" + _ATEN.get(name, name)))
    for cls in _subclasses(ember.nn.Module):
        layer = _LAYERS.get(cls.__name__)
        # the convs inherit forward from a shared base; ember's own classes carry torch's module under the alias
        if layer and cls.__module__.startswith(("ember.", "torch.")):
            _set(cls, "forward", _layer_event(cls.forward, *layer))
    _install_autograd()
    _install_optimizers()


def _install_autograd():
    from ember.autograd import graph
    for cls in _subclasses(graph.Node):
        if "backward" in cls.__dict__ and cls.__name__ not in ("Node",):
            _set(cls, "backward", _backward_wrapper(cls.__dict__["backward"]))
    acc = graph.AccumulateGrad
    _set(acc, "accumulate", _backward_wrapper(acc.__dict__["accumulate"], "torch::autograd::AccumulateGrad"))


def _backward_wrapper(fn, name=None):
    """A grad_fn's backward as PyTorch's two events: the engine's evaluate_function and the node (named
    by its class, ``AddmmBackward0``, unless ``name`` is given)."""
    def record(args, start, end, result):
        node = name or type(args[0]).__name__
        add_event("autograd::engine::evaluate_function: " + node, start, end, result=result, inputs=args)
        add_event(node, start, end, result=result, inputs=args)
    return _timed(fn, record)


def _install_optimizers():
    import ember
    base = ember.optim.Optimizer
    for cls in [base] + _subclasses(base):
        for method in ("step", "zero_grad"):
            if method in cls.__dict__:
                _set(cls, method, _optimizer_wrapper(cls.__dict__[method], method))


def _optimizer_wrapper(fn, method):
    """An optimizer's step or zero_grad as PyTorch's user annotation ``Optimizer.step#SGD.step``."""
    def record(args, start, end, result):
        name = type(args[0]).__name__
        add_event(f"Optimizer.{method}#{name}.{method}", start, end, kind="user_annotation")
    return _timed(fn, record)


def _subclasses(cls):
    out, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in out:
                out.append(sub)
                todo.append(sub)
    return out


def _uninstall():
    """Put the originals back, except where something wrapped the timing wrapper meanwhile (the torch namespaces'
    ``__torch_function__`` dispatch, switched on during a session): that stays, over an idle timing wrapper."""
    _unswap()
    while _PATCHES:
        owner, name, original, wrapper = _PATCHES.pop()
        current = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if current is not wrapper:
            continue
        if original is None and isinstance(owner, type):
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def start(record_shapes=False, profile_memory=False):
    """Begin a recording session; returns it (``stop`` ends it)."""
    session = _Session(record_shapes, profile_memory)
    if not _ACTIVE and not _PATCHES and not _SWAPPED:
        _install()
    _ACTIVE.append(session)
    return session


def stop(session):
    if session in _ACTIVE:
        _ACTIVE.remove(session)
    if not _ACTIVE:
        _uninstall()


class record_function:
    """Label a block (``with record_function('name'):``) or a function (as a decorator) so that the
    profiler shows it as one event holding the ops inside."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._start = None

    def __enter__(self):
        self._start = _now_us()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self._start is not None and _ACTIVE:
            add_event(self.name, self._start, _now_us(), kind="user_annotation")
        self._start = None
        return None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped

    def _call_end_callbacks_on_future(self, fut):
        return fut


