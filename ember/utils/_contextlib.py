"""``torch.utils._contextlib``: context managers that also decorate functions, generator functions included (the
mode then holds inside the generator each time it resumes, not only while the generator object is made).
ember's grad modes decorate through ``context_decorator``; libraries subclass ``_DecoratorContextManager``
(tensordict's option setters)."""
import functools
import inspect
import sys
import warnings

__all__ = ['context_decorator']


def _wrap_generator(ctx_factory, func):
    """Generator function ``func`` whose every step (first run, send, throw, close) runs inside a fresh context."""
    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value
    return generator_context


def context_decorator(ctx, func):
    """``func`` run inside the context ``ctx`` makes (a factory, or a reusable context manager); a generator function
    keeps the context across its steps; a class is refused (decorate its methods)."""
    if callable(ctx) and hasattr(ctx, '__enter__'):
        raise AssertionError(f'Passed in {ctx} is both callable and also a valid context manager (has __enter__), '
                             f'making it ambiguous which interface to use.  If you intended to pass a context manager '
                             f'factory, rewrite your call as context_decorator(lambda: ctx()); if you intended to pass '
                             f'a context manager directly, rewrite your call as context_decorator(lambda: ctx)')
    ctx_factory = ctx if callable(ctx) else (lambda: ctx)
    if inspect.isclass(func):
        raise RuntimeError('Cannot decorate classes; it is ambiguous whether or not only the constructor or all methods '
                           'should have the context manager applied; additionally, decorating a class at '
                           'definition-site will prevent use of the identifier as a conventional type.  To specify '
                           'which methods to decorate, decorate each of them individually.')
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(ctx_factory, func)

    @functools.wraps(func)
    def decorate_context(*args, **kwargs):
        with ctx_factory():
            return func(*args, **kwargs)
    return decorate_context


def decorate(mode, orig_func):
    """``orig_func`` run under fresh clones of ``mode``; a class warns (deprecated, as PyTorch's) and its constructor
    call is wrapped."""
    func = orig_func
    if inspect.isclass(orig_func):
        warnings.warn('Decorating classes is deprecated and will be disabled in future versions. You should only '
                      'decorate functions or methods. To preserve the current behavior of class decoration, you can '
                      'directly decorate the `__init__` method and nothing else.', FutureWarning, stacklevel=3)
        func = lambda *args, **kwargs: orig_func(*args, **kwargs)   # noqa: E731 (PyTorch wraps it so too)
    return context_decorator(mode.clone, func)


class _DecoratorContextManager:
    """A context manager that is also a decorator (subclasses give __enter__, __exit__ and, when their __init__ takes
    arguments, clone)."""

    def __call__(self, orig_func):
        return decorate(self, orig_func)

    def __enter__(self):
        raise NotImplementedError

    def __exit__(self, exc_type, exc_value, traceback):
        raise NotImplementedError

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """A decorating context manager that also decorates without parentheses (``@no_grad``)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)
