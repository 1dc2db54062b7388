"""``torch.compiler``: the public face of ``torch.compile``'s settings. ember has no compiler (``compile``
returns functions as given and modules wrapped, see ``ember._dynamo.eval_frame``), so these answer as code
that runs uncompiled: nothing is ever compiling, ``reset`` has nothing to forget, and the decorators return
the function they are given."""
from . import _dynamo

__all__ = ['compile', 'reset', 'allow_in_graph', 'assume_constant_result', 'disable', 'list_backends',
           'is_compiling', 'is_dynamo_compiling', 'is_exporting', 'cudagraph_mark_step_begin']


def compile(*args, **kwargs):
    """``torch.compile``."""
    from . import compile as _compile
    return _compile(*args, **kwargs)


def reset():
    """Forget compiled code (there is none)."""
    _dynamo.reset()


def allow_in_graph(fn):
    return _dynamo.allow_in_graph(fn)


def assume_constant_result(fn):
    """Mark ``fn``'s result as constant for the compiler; returns ``fn``."""
    return fn


def disable(fn=None, recursive=True, *, reason=None):
    return _dynamo.disable(fn, recursive, reason=reason)


def list_backends(exclude_tags=('debug', 'experimental')):
    return _dynamo.list_backends(exclude_tags)


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def cudagraph_mark_step_begin():
    """Mark the start of a CUDA-graph step (ember records no CUDA graphs)."""
