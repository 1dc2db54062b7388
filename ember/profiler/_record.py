"""Recording op events while a profiler runs.

ember's ops carry no profiling hooks (a check in every op would cost every call). While a profiler
records, the public functions of ``torch``, ``torch.nn.functional``, ``torch.linalg`` and
``torch.special``, the Tensor methods and operators, the forwards of the built-in layers, the grad_fn
backward functions and the optimizers' ``step``/``zero_grad`` are replaced by timing wrappers that add
an event named as PyTorch names it (``aten::add``, ``AddBackward0``, ``Optimizer.step#SGD.step``); they
are put back when it stops. Events nested inside an op (PyTorch's ``aten::relu`` -> ``aten::clamp_min``)
are those ember's own op calls through these names, not PyTorch's.
"""
import functools
import importlib
import threading
import time
import types

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
         "__invert__": "bitwise_not", "float": "to", "double": "to", "half": "to", "long": "to", "int": "to",
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
# Built-in layers whose forward is one aten op in PyTorch.
_LAYERS = {"Linear": "linear", "Bilinear": "bilinear", "Conv1d": "conv1d", "Conv2d": "conv2d",
           "Conv3d": "conv3d", "ConvTranspose1d": "conv_transpose1d", "ConvTranspose2d": "conv_transpose2d",
           "ConvTranspose3d": "conv_transpose3d", "BatchNorm1d": "batch_norm", "BatchNorm2d": "batch_norm",
           "BatchNorm3d": "batch_norm", "LayerNorm": "layer_norm", "GroupNorm": "group_norm",
           "Embedding": "embedding", "Dropout": "dropout", "MaxPool1d": "max_pool1d", "MaxPool2d": "max_pool2d",
           "AvgPool1d": "avg_pool1d", "AvgPool2d": "avg_pool2d", "AdaptiveAvgPool2d": "adaptive_avg_pool2d",
           "Flatten": "flatten", "CrossEntropyLoss": "cross_entropy_loss", "MSELoss": "mse_loss",
           "NLLLoss": "nll_loss_nd", "ReLU": "relu", "GELU": "gelu", "Tanh": "tanh", "Sigmoid": "sigmoid",
           "Softmax": "softmax", "LogSoftmax": "log_softmax", "LSTM": "lstm", "GRU": "gru", "RNN": "rnn_tanh"}

_now_us = (lambda: time.perf_counter_ns() / 1000.0)


class _Session:
    """The events of one recording, and the originals of what its wrappers replaced."""

    def __init__(self, record_shapes=False):
        self.record_shapes = record_shapes
        self.base_us = _now_us()  # event times are shown from the start of the recording
        self.events = []  # [name, start_us, end_us, thread, shapes, kind]
        self.lock = threading.Lock()

    def add(self, name, start, end, args=(), kind="cpu_op"):
        shapes = _shapes(args) if self.record_shapes else []
        with self.lock:
            self.events.append([name, start, end, threading.get_native_id(), shapes, kind])


def _shapes(args):
    import ember
    return [list(a.shape) if isinstance(a, ember.Tensor) else [] for a in args]


_ACTIVE = []  # the recording sessions (nested profilers each get the events)
_PATCHES = []  # (owner, name, original, is_dict) while wrappers are installed


def active():
    return bool(_ACTIVE)


def add_event(name, start, end, args=(), kind="cpu_op"):
    for session in _ACTIVE:
        session.add(name, start, end, args, kind)


def _timed(fn, record):
    """``fn`` that, while a profiler records, calls ``record(args, start_us, end_us)`` after each call."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _ACTIVE:
            return fn(*args, **kwargs)
        start = _now_us()
        try:
            return fn(*args, **kwargs)
        finally:
            record(args, start, _now_us())
    wrapper.__ember_profiled__ = fn
    return wrapper


def _op_event(fn, name, skip=0):
    """``fn`` adding an event ``name`` per call (its input shapes from the arguments after ``skip``)."""
    return _timed(fn, lambda args, start, end: add_event(name, start, end, args[skip:]))


def _set(owner, name, value):
    _PATCHES.append((owner, name, owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)))
    setattr(owner, name, value)


def _install():
    """Put the timing wrappers in place (first session only)."""
    import ember
    for module_name in _NAMESPACES:
        module = importlib.import_module(module_name)
        for name, value in list(vars(module).items()):
            if isinstance(value, types.FunctionType) and name not in _SKIP and not name.startswith(_SKIP_PREFIXES):
                _set(module, name, _op_event(value, "aten::" + _ATEN.get(name, name)))
    for name, value in list(vars(ember.Tensor).items()):
        if callable(value) and not isinstance(value, type) and name not in _TENSOR_SKIP and \
                (not name.startswith("_") or name in _ATEN) and not isinstance(value, (staticmethod, classmethod)):
            _set(ember.Tensor, name, _op_event(value, "aten::" + _ATEN.get(name, name)))
    for cls in _subclasses(ember.nn.Module):
        aten = _LAYERS.get(cls.__name__)
        if aten and cls.__module__.startswith("ember."):   # the convs inherit forward from a shared base
            _set(cls, "forward", _op_event(cls.forward, "aten::" + aten, skip=1))
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
    def record(args, start, end):
        node = name or type(args[0]).__name__
        add_event("autograd::engine::evaluate_function: " + node, start, end)
        add_event(node, start, end)
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
    def record(args, start, end):
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
    while _PATCHES:
        owner, name, original = _PATCHES.pop()
        if original is None and isinstance(owner, type):
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def start(record_shapes=False):
    """Begin a recording session; returns it (``stop`` ends it)."""
    session = _Session(record_shapes)
    if not _ACTIVE and not _PATCHES:
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


