"""Grad mode: whether ops record the backward graph (no_grad, enable_grad, inference_mode, ...).
Thread-local, as in PyTorch: each thread starts with grad mode on, and a ``no_grad()`` or a backward
pass in one thread leaves the others recording."""
import threading

from .. import _quiet
from .._torch_names import object_repr, torch_path


OFF = set()     # the threads (by ident) whose grad mode may be off: while the set is empty, every thread records, so
                # the hot ops skip GRAD.enabled, a thread-local read (34 ns of a (4, 4) add's 760), by testing
                # ``not OFF or GRAD.enabled``. A thread joins on turning grad mode off and leaves on turning it back
                # on (set.add and discard are atomic: no lock); one that ends with it off stays, which only sends
                # the ops back to reading GRAD.enabled, until a thread that reuses its ident turns grad mode on
_ident = threading.get_ident


def note_mode(enabled):
    """Record in OFF that this thread's grad mode is now ``enabled``."""
    if enabled:
        OFF.discard(_ident())
    else:
        OFF.add(_ident())


INFERENCE = set()   # the threads (by ident) in inference mode: while it is empty, tensors are made unmarked
ON_INFERENCE = []   # callbacks told whether INFERENCE is non-empty when a thread enters or leaves it (tensor.py's)


def note_inference(on):
    """Record in INFERENCE that this thread's inference mode is now ``on`` (and tell ON_INFERENCE)."""
    if on:
        INFERENCE.add(_ident())
    else:
        INFERENCE.discard(_ident())
    for fn in ON_INFERENCE:
        fn(bool(INFERENCE))


class _GradState(threading.local):
    """The per-thread autograd flags; ``threading.local`` runs __init__ once in each thread that reads them.
    ``enabled``/``inference``: grad and inference mode; ``graph``/``release``: set while a backward pass
    runs (create_graph, and not retain_graph), read as ``ember.autograd.graph.MODE``, the same object;
    ``callbacks``: False outside a backward pass, else None or the list engine.queue_callback fills;
    ``partial``: while a backward pass runs, whether it was asked for some inputs' gradients only
    (autograd.grad, backward(inputs=)), which reentrant checkpointing cannot serve; ``quiet``: the pass's
    _quiet token, through which a custom Function's backward runs under the user's NumPy error state.
    An attribute read costs about 35 ns more than a slot's, so the engine reads them once per pass."""

    def __init__(self):
        self.enabled = True
        self.inference = False
        self.graph = False
        self.release = False
        self.callbacks = False      # while a backward pass runs: None, or the callbacks queued to run at its end
        self.partial = False
        self.quiet = None           # while a backward pass runs: its _quiet token (the user's NumPy state before it)
        self.multithreading = True  # set_multithreading_enabled's and enforce_grad_layout_policy's settings
        self.grad_layout = True

    def __setattr__(self, name, value):
        if name == 'enabled':   # every change of grad mode goes to OFF (the engine's, made in __dict__, too)
            note_mode(value)
        elif name == 'inference' and bool(value) != (_ident() in INFERENCE):
            note_inference(bool(value))
        super().__setattr__(name, value)


GRAD = _GradState()


def as_user(fn, *args):
    """``fn(*args)``: the user's code that a backward pass calls (a custom Function's backward, a hook), under the
    user's NumPy error state, not the pass's quiet one, so that its own NumPy warns as under PyTorch."""
    q = GRAD.quiet
    return fn(*args) if q is None else _quiet.outside(q, fn, *args)


def is_grad_enabled():
    return GRAD.enabled


def is_inference_mode_enabled():
    return GRAD.inference


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator."""
    _value = True
    __repr__ = object_repr      # <torch.autograd.grad_mode.no_grad object at ...>, as PyTorch prints

    def __enter__(self):
        self._prev = GRAD.enabled, GRAD.inference
        self._apply()
        return self

    def _apply(self):
        GRAD.enabled = self._value

    def __exit__(self, *exc):
        GRAD.enabled, GRAD.inference = self._prev
        return False

    def __call__(self, fn):
        from ..utils._contextlib import decorate
        return decorate(self, fn)

    def clone(self):
        return type(self)()


class _NoParamMode(_Mode):
    """A mode that is also a decorator without parentheses (``@torch.no_grad``), as PyTorch's
    ``_NoParamDecoratorContextManager``: called on a function, it returns the decorated function."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Context manager and decorator (with or without parentheses) that stops ops from recording the graph."""
    _value = False


class enable_grad(_NoParamMode):
    """Context manager and decorator (with or without parentheses) that turns graph recording back on."""
    _value = True


class set_grad_enabled(_Mode):
    """Sets grad mode to ``mode``; takes effect at once, and as a context manager restores it on exit."""

    def __init__(self, mode):
        self._prev = GRAD.enabled, GRAD.inference
        self._value = bool(mode)
        GRAD.enabled = self._value

    def __enter__(self):
        return self

    def __repr__(self):
        """PyTorch's, as a notebook cell ending in ``torch.set_grad_enabled(False)`` shows it."""
        return f'{torch_path(type(self))}(mode={self.mode})'

    @property
    def mode(self):
        return self._value

    @property
    def prev(self):
        return self._prev[0]

    def __call__(self, fn):
        GRAD.enabled, GRAD.inference = self._prev
        return super().__call__(fn)

    def clone(self):
        return type(self)(self._value)


class inference_mode(_Mode):
    """Like no_grad, and the tensors made under it are inference tensors (``Tensor.is_inference()``: no
    version counter, no in-place change outside inference mode). Also a decorator without parentheses
    (``@inference_mode``), as PyTorch's."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._value = not mode
        self._mode = mode

    def _apply(self):
        GRAD.enabled = self._value
        GRAD.inference = self._mode

    def __call__(self, fn):
        if isinstance(fn, bool):
            return inference_mode(fn)
        return super().__call__(fn)

    def clone(self):
        return type(self)(self._mode)


class _Setting:
    """A thread-local engine setting that takes effect when made and is restored on leaving the ``with`` block (or
    around each call, as a decorator), as PyTorch's are."""
    _attr = None
    __repr__ = object_repr

    def _set(self, mode):
        self._prev = getattr(GRAD, self._attr)
        self.mode = mode
        setattr(GRAD, self._attr, mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        setattr(GRAD, self._attr, self._prev)
        return False

    def __call__(self, fn):
        from ..utils._contextlib import decorate
        setattr(GRAD, self._attr, self._prev)
        return decorate(self, fn)

    def clone(self):
        return type(self)(self.mode)


class set_multithreading_enabled(_Setting):
    """Whether backward may run on per-device worker threads. Recorded only: ember's engine runs on the calling
    thread, as PyTorch's does for CPU tensors, so the setting changes nothing it computes."""
    _attr = 'multithreading'

    def __init__(self, mode):
        self._set(mode)


class enforce_grad_layout_policy(_Setting):
    """Whether accumulated gradients are made to match their parameters' strides. Recorded only: ember's
    gradients and parameters are all row-major, so they always match."""
    _attr = 'grad_layout'

    def __init__(self, enable=True):
        self._set(enable)
