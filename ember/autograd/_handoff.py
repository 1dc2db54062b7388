"""Gradients handed on for reuse: a node whose backward makes a new array for its one input may mark it
(``hand_on``), and the node that receives it may then write its own gradient into that memory (``take``)
instead of a new array. In a plain backward pass (no create_graph, no autograd.grad inputs, no anomaly mode)
nothing but the engine sees such an array between the two nodes: hooks (which could keep it) make a node
``_special``, and a marked node or a receiving node with hooks hands nothing on. The receiving node must match
the array by identity, so a mark left by another pass, thread or node matches nothing.

Why: word_language_model's nll_loss gradient and log_softmax's are (700, 10000) float32 each, 28 MB; writing
the second into the first keeps a step's freed heap under glibc's trim threshold (62 MiB, backend.prepare_heap),
which otherwise handed ~23 MB back to the OS at the end of every step and page-faulted it in again on the next:
5,730 -> 1-890 minor faults a step (the heap's layout varies run to run); the step, min of 10 after 3 warm-up
steps in separate processes run in turn, 1 thread (thread time) 145.7 / 143.5 -> 134.7 / 129.9 ms, 2 threads
(chrt) 85.4 / 81.0 -> 75.7 / 75.6 ms."""
import weakref

from .grad_mode import GRAD
from .graph import ANOMALY

_LAST = [None]      # weak reference to the array last handed on
_ONE_HOT = [None]   # what the array last handed on holds when it is one-hot (see hand_on), else None


def _plain(node):
    st = GRAD.__dict__
    return not (node._special or st['graph'] or st['partial'] or ANOMALY[0])


def hand_on(node, a, one_hot=None):
    """Mark ``a``, the new array ``node``'s backward returns as its input's gradient, for the next node to
    reuse (when the pass is plain and node has no hooks); returns ``a``. ``one_hot``: (tc, v) when ``a`` is 2-D
    zeros but ``v`` (one value, or one per row) at each row's column tc, which the next node may use instead of
    reading ``a`` (one_hot)."""
    plain = _plain(node)
    _LAST[0] = weakref.ref(a) if plain else None
    _ONE_HOT[0] = one_hot if plain else None
    return a


def one_hot(g):
    """hand_on's (tc, v) for ``g`` when g is the array last handed on as one-hot, else None: to be asked before
    take(), which forgets it. The engine never changes a gradient in place (a sum is a new array), so an array
    found by identity still holds what its node wrote."""
    ref = _LAST[0]
    return _ONE_HOT[0] if ref is not None and ref() is g else None


def take(node, g):
    """Whether ``node``'s backward may overwrite the gradient ``g`` it received: g is the array last handed
    on, and node has no hooks in a plain pass."""
    ref = _LAST[0]
    if ref is None or ref() is not g:
        return False
    _LAST[0] = _ONE_HOT[0] = None
    return _plain(node)
