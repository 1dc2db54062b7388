"""Anomaly detection (``torch.autograd.detect_anomaly``): while on, every recorded op keeps the traceback of the
forward call that made it, the backward pass checks each node's gradients for NaN (``check_nan``), and an error
in backward is preceded by a warning with the forward traceback of the node that failed. Global, as PyTorch's
flag is. While off it costs nothing: the tracing constructor and the checked backward path are swapped in."""
import os
import warnings

from . import graph

__all__ = ['detect_anomaly', 'set_detect_anomaly', 'is_anomaly_enabled', 'is_anomaly_check_nan_enabled',
           'set_anomaly_enabled']

_EMBER = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_plain_init = graph.Node.__init__


def _traced_init(self, inputs):
    _plain_init(self, inputs)
    self._forward_trace = forward_trace()


def _traced_new(cls):
    """``object.__new__`` for the hot paths that build nodes without __init__, recording a node's trace."""
    obj = object.__new__(cls)
    if isinstance(obj, graph.Node):
        obj._forward_trace = forward_trace()
    return obj


def _constructors():
    """(module, name) of the ``object.__new__`` aliases the hot paths make nodes with."""
    from ..ops import blas, pointwise, reduction
    return ((pointwise, '_new_node'), (reduction, '_new_node'), (blas, '_new'), (graph, '_new'))


def forward_trace():
    """The current Python stack without ember's own frames, formatted as PyTorch prints it."""
    import traceback    # only while anomaly detection is on: ``import ember`` stays without it
    frames = [f for f in traceback.extract_stack()[:-2] if not os.path.abspath(f.filename).startswith(_EMBER)]
    return ''.join(traceback.format_list(frames))


def is_anomaly_enabled():
    return graph.ANOMALY[0]


def is_anomaly_check_nan_enabled():
    return graph.ANOMALY[1]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off for every thread (``torch.set_anomaly_enabled``)."""
    graph.ANOMALY[0], graph.ANOMALY[1] = bool(enabled), bool(check_nan)
    # the tracing constructors are swapped in only while on: off, node creation costs what it always did
    graph.Node.__init__ = _traced_init if enabled else _plain_init
    for module, name in _constructors():
        setattr(module, name, _traced_new if enabled else object.__new__)


def report(node):
    """Warn with the forward traceback of ``node``, before the error its backward raised propagates."""
    trace = getattr(node, '_forward_trace', None)
    if trace is None:
        warnings.warn('Error detected in ' + node.name() + '. No forward pass information available. Enable detect '
                      'anomaly during forward pass for more information.', stacklevel=2)
    else:
        warnings.warn(f'Error detected in {node.name()}. Traceback of forward call that caused the error:\n{trace}',
                      stacklevel=2)


class detect_anomaly:
    """Context manager turning anomaly detection on inside it, with PyTorch's warning."""

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn('Anomaly Detection has been enabled. This mode will increase the runtime and should only be '
                      'enabled for debugging.', stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly detection on or off now; as a context manager, put it back on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
