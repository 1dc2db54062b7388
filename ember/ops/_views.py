"""Views across in-place changes. A view shares its base's memory, so an in-place change to the base (or to
another view of it) changes the view too; PyTorch then regenerates the view's grad_fn from the base's new
history (AsStridedBackward0 of the base) so gradients go through the change. ember does it eagerly: a base
keeps weak references to its views, and the change that rewrites the base's history rewrites theirs."""
from weakref import ref as _ref

import numpy as np

from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import SEQ, Node, StaleView, _NO_EDGE
from ..tensor import Tensor

_TAIL = {'multi': ('. This view is the output of a function that returns multiple views. Such functions do not allow '
                   'the output views to be modified inplace. You should replace the inplace operation by an '
                   'out-of-place one.'),
         'nograd': ('. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your '
                    'code by moving both the view and the inplace either both inside the no_grad block (if you '
                    'don\'t want the inplace to be tracked) or both outside (if you want the inplace to be '
                    'tracked).')}
_CHANGED = 'its base or another view of its base has been modified inplace'
_CHANGING = 'is being modified inplace'


def view_of(input, arr, node, multi=None):
    """A result sharing memory (and the version counter) with ``input``, known to its base for later
    in-place changes (a leaf that requires grad is never changed in place under grad mode: not tracked).
    ``multi``: the name PyTorch gives a function returning several views (Split, Unbind), whose outputs
    may not be changed in place once autograd is involved."""
    out = Tensor._make(arr, node)
    base = input._base
    if base is None:
        base = input
    out._base = base
    if node is None and not GRAD.enabled and base._requires_grad:   # (the root base's flag, as PyTorch's)
        # PyTorch's view under no_grad of a tensor that requires grad requires grad too, with no grad_fn and no
        # gradient accumulator: ops on it record graphs whose gradient stops there
        out._requires_grad, out._accum_edge = True, _NO_EDGE
    prev = input._vkind
    if base.grad_fn is None and base._requires_grad and (node is None or (
            multi is None and (prev is None or prev[0] != 'multi'))):
        if node is None and not GRAD.enabled:   # (still refused a tracked in-place change: check_inplace)
            out._vkind = ('nograd', None)
        return out
    if node is None and not GRAD.enabled:
        out._vkind = ('nograd', None)
    elif multi is not None:
        out._vkind = ('multi', multi if node is not None else None)
    elif prev is not None:   # a view of such a view inherits its refusal (PyTorch's propagate_creation_meta)
        out._vkind = (prev[0], _label(node) if node is not None else prev[1])
    views = base._views
    if views is None:
        base._views = views = _Views()
    views.append(_ref(out))
    if out._vkind is not None and out._vkind[0] == 'multi' and out._vkind[1] is not None:
        views.multi = True
    if len(views) > views.limit:
        views.sweep()
    return out


def _label(node):
    """The name PyTorch's view errors give a view's node: its grad_fn's name less 'Backward0' ('View',
    'Squeeze1' of SqueezeBackward1, 'T')."""
    return node.name().replace('Backward0', '').replace('Backward', '')


class _Views(list):
    """Weak references to a base's views (0.2 us a view, min of interleaved runs, against 0.23 us to wrap it);
    dead ones are swept when the list has doubled since the last sweep, so a long-lived base viewed every
    step (a dataset's tensor) holds O(live views) references."""
    __slots__ = ('limit', 'multi')

    def __init__(self, refs=()):
        # ``refs`` as list's own: code that walks a tensor's attributes rebuilds a list as ``type(obj)(items)``
        # (sbi's detach_and_deepcopy)
        super().__init__(refs)
        self.limit = 32
        self.multi = False     # some view is (a view of) an output of split/chunk/unbind: see stale_multi

    def sweep(self):
        self[:] = [r for r in self if r() is not None]
        self.limit = max(32, 2 * len(self))

    def live(self):
        return [v for v in (r() for r in self) if v is not None]


def _refusal(v, what):
    """PyTorch's error for a view that autograd cannot follow through an in-place change (None if it can)."""
    kind = v._vkind
    if kind is None:
        return None
    tail, name = kind
    if name is not None and tail == 'nograd':
        return (f'Output {v._output_nr} of {name} is a view of a view which was created in no_grad mode and {what} '
                f'with grad mode enabled{_TAIL[tail]}')
    if name is not None:
        return f'Output {v._output_nr} of {name} is a view and {what}{_TAIL[tail]}'
    return f'A view was created in no_grad mode and {what} with grad mode enabled{_TAIL[tail]}'


def check_view_inplace(t):
    """Raise PyTorch's error for a recorded in-place change of a view autograd cannot rebase: an output of
    split/chunk/unbind, or a view made under no_grad."""
    message = _refusal(t, _CHANGING)
    if message is not None:
        raise RuntimeError(message)


def regenerate(base, t=None):
    """After ``base``'s history was rewritten in place: each live view's grad_fn becomes AsStridedBackward0
    of the base (PyTorch's regenerated grad_fn), and so does ``t``'s, the view just changed."""
    views = base._views
    if views is None and t is None:     # an in-place op on a tensor never viewed: the usual case
        return
    live = [] if views is None else views.live()
    if t is not None and all(v is not t for v in live):
        live.append(t)
    for v in live:
        if v._base is not base:
            continue
        message = _refusal(v, _CHANGED)
        if message is None:
            node = AsStridedBackward0((base,))
            node.view, node.base = v._data, base._data
        else:   # (keeps its output_nr: PyTorch's refusal names it)
            node = StaleView((base,))
            node.message = message
        old = v.grad_fn
        v.grad_fn, v._requires_grad = node, True
        if message is None:
            v._output_nr = 0
        if v._retains_grad and old is not None:
            v._move_retain(old)


def stale_multi(base):
    """After any in-place change to ``base`` or a view of it (under no_grad too): the (views of) outputs of
    split/chunk/unbind refuse a new history, as PyTorch's grad_fn of such a view raises once the version moved.
    Graphs recorded before the change keep their edges (PyTorch's too); an op recording the stale view raises
    (graph.edge), as PyTorch's on reading its grad_fn."""
    for v in base._views.live():
        kind = v._vkind
        if kind is not None and kind[0] == 'multi' and kind[1] is not None and type(v.grad_fn) is not StaleView:
            node = StaleView((base,))
            node.message = _refusal(v, _CHANGED)
            old = v.grad_fn
            v.grad_fn, v._requires_grad = node, True
            if v._retains_grad and old is not None:
                v._move_retain(old)


class AsStridedBackward0(Node):
    """A view's history after its base changed in place: its gradient is scattered into the base's shape."""
    __slots__ = ('view', 'base')

    def backward(self, g):
        if not self.view.size:
            return dual.zeros(self.base.shape, g)
        idx = view_positions(self.base, self.view)
        if not dual.is_array(g):
            from .indexing import index_put_grad
            return index_put_grad(self.base.shape, idx, g)
        out = np.zeros(self.base.shape, g.dtype)
        if 0 in self.view.strides and self.view.size > 1:
            np.add.at(out, idx, g)       # an expanded view: one element seen several times
        else:
            out[idx] = g
        return out

    @property
    def _saved_size(self):
        return tuple(self.view.shape)

    @property
    def _saved_stride(self):
        return tuple(s // self.view.itemsize for s in self.view.strides)

    @property
    def _saved_storage_offset(self):
        start = self.view.__array_interface__['data'][0] - self.base.__array_interface__['data'][0]
        return start // self.view.itemsize


class CopySlices(Node):
    """An in-place op ``fn`` on a view, recorded on the base as PyTorch records it: the gradient's part under
    the view goes through ``fn``; what ``fn`` gives for the view's old values goes back into that part
    (when ``fn``'s first input is the view's old self), the rest to fn's other inputs."""
    __slots__ = ('fn', 'idx', 'through')

    def name(self):
        return 'torch::autograd::CopySlices'

    def backward(self, g):
        fn, idx = self.fn, self.idx
        if self._saved is None:     # the engine released this node: release fn, whose saved() then raises
            fn._saved = None
        res = fn.backward(_part(g, idx))
        if type(res) is not tuple:
            res = (res,)
        if self.through:
            first, rest = res[0], res[1:]
        else:
            first, rest = None, res
        if dual.is_array(g):
            out = np.array(g)   # (a 0-d base's gradient may come as a NumPy scalar)
            out[idx] = 0 if first is None else first
        else:
            from .indexing import index_put
            out = index_put(g, idx, dual.const(0.0, g) if first is None else first)
        return (out,) + rest


def _part(g, idx):
    """``g[idx]``, an array even where the view is 0-d (NumPy gives a scalar for a full integer index)."""
    p = g[idx]
    return np.asarray(p) if dual.is_array(g) and not isinstance(p, np.ndarray) else p


def rebase(t, r, prior):
    """``t``, a view, now holds ``r`` (an op on its old values whose history is ``r.grad_fn``): record a
    CopySlices of r's node on the base, then regenerate the views' histories. ``prior`` is the edge ops
    recorded to t before the change. False when t does not lie inside its base's memory."""
    from .inplace import view_index
    b = t._base
    fn = r.grad_fn
    idx = view_index(b._data, t._data)
    if idx is None or r._output_nr or fn._n_out != 1:
        return False
    from ..autograd.graph import edge
    old = Tensor._make(b._data, b.grad_fn)
    old._output_nr, old._requires_grad = b._output_nr, b._requires_grad
    node = CopySlices.__new__(CopySlices)
    node._seq = next(SEQ)
    first = fn.next_functions[0] if fn.next_functions else None
    node.through = first is not None and first[0] is prior[0] and first[1] == prior[1]
    node.next_functions = (edge(old),) + (fn.next_functions[1:] if node.through else fn.next_functions)
    node.fn, node.idx = fn, idx
    if fn._saved:
        node._saved = (True,)
    b.grad_fn, b._output_nr, b._requires_grad = node, 0, True
    regenerate(b, t)
    return True


def view_positions(base, view):
    """Index arrays into ``base`` giving each element of ``view``; raises if the view left base's memory."""
    from .inplace import view_index
    idx = view_index(base, view)
    if idx is None:
        raise RuntimeError('a view whose base was modified in place no longer lies in its base\'s memory '
                           '(its storage was replaced): cannot compute its gradient')
    return idx
