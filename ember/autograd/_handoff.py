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

# (weak reference to the array last handed on, its one-hot form or None: see hand_on), one slot so that another
# thread's hand_on replaces both at once
_LAST = [None]


def _plain(node):
    st = GRAD.__dict__
    return not (node._special or st['graph'] or st['partial'] or ANOMALY[0])


def hand_on(node, a, one_hot=None):
    """Mark ``a``, the new array ``node``'s backward returns as its input's gradient, for the next node to
    reuse (when the pass is plain and node has no hooks); returns ``a``. ``one_hot``: (tc, v) when ``a`` is 2-D
    zeros but ``v`` (one value, or one per row) at each row's column tc, which the next node may use instead of
    reading ``a`` (one_hot)."""
    _LAST[0] = (weakref.ref(a), one_hot) if _plain(node) else None
    return a


def one_hot(g):
    """hand_on's (tc, v) for ``g`` when g is the array last handed on as one-hot, else None: to be asked before
    take(), which forgets it. The engine never changes a gradient in place (a sum is a new array), so an array
    found by identity still holds what its node wrote."""
    last = _LAST[0]
    return last[1] if last is not None and last[0]() is g else None


def take(node, g):
    """Whether ``node``'s backward may overwrite the gradient ``g`` it received: g is the array last handed
    on, and node has no hooks in a plain pass."""
    last = _LAST[0]
    if last is None or last[0]() is not g:
        return False
    _LAST[0] = None
    return _plain(node)
