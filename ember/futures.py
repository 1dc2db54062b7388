"""``torch.futures``: a value that arrives later. ember computes everything at once in the calling thread, so its
own futures (``torch.jit.fork``'s) are born complete, but programs also make pending ones and complete them
(``set_result``/``set_exception``, from any thread), chain callbacks with ``then`` and gather with
``collect_all``/``wait_all`` (PyG's distributed feature store annotates with the class)."""
import threading
from typing import Generic, TypeVar

__all__ = ['Future', 'collect_all', 'wait_all']

T = TypeVar('T')
_TWICE = ('Attempting to mark a completed Future as complete again. Note that a Future can only be marked '
          'completed once.')


class Future(Generic[T]):
    """A pending or completed result; ``wait`` blocks until completed and raises a stored exception."""

    def __init__(self, *, devices=None):
        self._event, self._lock = threading.Event(), threading.Lock()
        self._result, self._exception, self._callbacks = None, None, []

    def done(self):
        """Whether a result or an exception is set."""
        return self._event.is_set()

    def wait(self):
        """The result, once set (blocking until then); a set exception is raised."""
        self._event.wait()
        if self._exception is not None:
            raise self._exception
        return self._result

    def value(self):
        """The result of a completed future (raising its exception); a pending one is an error."""
        if not self.done():
            raise RuntimeError('Future.value() called on a Future that is not completed yet')
        return self.wait()

    def set_result(self, result):
        """Complete the future with ``result`` and run its callbacks."""
        self._complete(result, None)

    def set_exception(self, result):
        """Complete the future with exception ``result`` (``wait`` raises it)."""
        assert isinstance(result, Exception), f'{result} is of type {type(result)}, not an Exception.'
        self._complete(None, result)

    def _complete(self, result, exception):
        with self._lock:
            if self.done():
                raise RuntimeError(_TWICE)
            self._result, self._exception = result, exception
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def add_done_callback(self, callback):
        """Run ``callback(self)`` once completed (at once if already)."""
        with self._lock:
            if not self.done():
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback):
        """A new future completed with ``callback(self)`` once this one completes; an error in the callback
        completes it with PyTorch's RuntimeError naming that error."""
        out = Future()

        def run(fut):
            try:
                value = callback(fut)
            except Exception as exc:  # noqa: BLE001 - passed on to the chained future, as PyTorch does
                out.set_exception(RuntimeError(f'Got the following error when running the callback: '
                                               f'{type(exc).__name__}: {exc}'))
            else:
                out.set_result(value)
        self.add_done_callback(run)
        return out


def collect_all(futures):
    """A future completed, once every one of ``futures`` is, with the list of them."""
    out, futures = Future(), list(futures)
    remaining, lock = [len(futures)], threading.Lock()

    def one_done(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            out.set_result(futures)
    if not futures:
        out.set_result([])
    for fut in futures:
        fut.add_done_callback(one_done)
    return out


def wait_all(futures):
    """The results of ``futures``, waiting for all (the first stored exception is raised)."""
    return [fut.wait() for fut in collect_all(futures).wait()]
