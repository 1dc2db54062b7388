"""``torch.ops.profiler``: the record-function ops that ``record_function`` is built on in PyTorch
(``_record_function_enter``/``_exit``), which fx-traced code calls to keep profiler ranges."""
from ..profiler._record import record_function


def _fx_record(fn, *args):
    """When an argument is a Tensor-like (a torch.fx Proxy), what its ``__torch_function__`` makes of the call
    (the Proxy records it in its graph); else None."""
    from .._torch_function import overloaded_args, handle
    over = overloaded_args(args)
    return handle(fn, over, args, None) if over else None


def _record_function_enter(name, args=None):
    """Open a profiler range named ``name``; returns the handle ``_record_function_exit`` closes."""
    recorded = _fx_record(_record_function_enter, name) if args is None else _fx_record(
        _record_function_enter, name, args)
    if recorded is not None:
        return recorded
    return record_function(name, args).__enter__()


def _record_function_enter_new(name, args=None):
    """``_record_function_enter`` (PyTorch's newer op of the same meaning)."""
    return _record_function_enter(name, args)


def _record_function_exit(handle):
    """Close the range that ``_record_function_enter`` opened."""
    recorded = _fx_record(_record_function_exit, handle)
    if recorded is not None:
        return recorded
    handle.__exit__(None, None, None)
    return None
