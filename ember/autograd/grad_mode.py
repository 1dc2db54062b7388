"""Grad mode: whether ops record the backward graph (no_grad, enable_grad, inference_mode, ...).
Thread-local, as in PyTorch: each thread starts with grad mode on, and a ``no_grad()`` or a backward
pass in one thread leaves the others recording."""
import functools
import threading


class _GradState(threading.local):
    """The per-thread autograd flags; ``threading.local`` runs __init__ once in each thread that reads them.
    ``enabled``/``inference``: grad and inference mode; ``graph``/``release``: set while a backward pass
    runs (create_graph, and not retain_graph), read as ``ember.autograd.graph.MODE``, the same object;
    ``callbacks``: False outside a backward pass, else None or the list engine.queue_callback fills.
    An attribute read costs about 35 ns more than a slot's, so the engine reads them once per pass."""

    def __init__(self):
        self.enabled = True
        self.inference = False
        self.graph = False
        self.release = False
        self.callbacks = False      # while a backward pass runs: None, or the callbacks queued to run at its end


GRAD = _GradState()


def is_grad_enabled():
    return GRAD.enabled


def is_inference_mode_enabled():
    return GRAD.inference


class _Mode:
    """Base of the grad-mode context managers; each also works as a decorator."""
    _value = True

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
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_Mode):
    """Context manager and decorator that stops ops from recording the graph."""
    _value = False


class enable_grad(_Mode):
    """Context manager and decorator that turns graph recording back on."""
    _value = True


class set_grad_enabled(_Mode):
    """Sets grad mode to ``mode``; takes effect at once, and as a context manager restores it on exit."""

    def __init__(self, mode):
        self._prev = GRAD.enabled, GRAD.inference
        self._value = bool(mode)
        GRAD.enabled = self._value

    def __enter__(self):
        return self

    def __call__(self, fn):
        GRAD.enabled, GRAD.inference = self._prev
        return super().__call__(fn)

    def clone(self):
        return type(self)(self._value)


class inference_mode(_Mode):
    """Like no_grad (ember keeps no extra inference-only state)."""

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
