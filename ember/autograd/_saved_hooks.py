"""Saved-tensor hooks (``torch.autograd.graph.saved_tensors_hooks`` and what is built on them): while a pair of
hooks is set in a thread, every tensor an op saves for backward goes through ``pack_hook`` when it is saved, and
the node keeps what the hook returned instead of the tensor; backward passes that to ``unpack_hook`` for the tensor.

Ops save through ``Node._saved`` (entries ``(tensor, version cell, version)`` for an input and ``(array, cell,
version, output_nr)`` for the op's own output). While hooks are set in any thread, ``Node._saved`` is the
``_PackingSlot`` descriptor, which packs those entries as they are stored; when none is set it is the plain class
attribute again, so ops pay nothing for the feature they do not use. A packed entry is ``(PACKED, _NEVER, -1,
record)``: its version never matches, so the ops' fast paths (which read saved arrays directly) fall through to
``Node.saved``, which unpacks it. As in PyTorch, a packed tensor's version is not checked (the hooks own it)."""
import contextlib
import threading

from . import graph as _graph
from .graph import PACKED, _NEVER, Node
from .._torch_names import TorchNamedType, object_repr

_ACTIVE = [0]               # hook pairs set now, in all threads: while > 0, Node._saved is the packing descriptor
_LOCK = threading.Lock()


class _State(threading.local):
    stack = ()              # this thread's (pack_hook, unpack_hook) pairs, innermost last
    disabled = None         # disable_saved_tensors_hooks's error message, while disabled


STATE = _State()


class _Packed:
    """What a pack hook returned for one saved tensor, and what rebuilding the tensor's place in the graph needs:
    the edge the original had (grad_fn and output number, or a leaf's AccumulateGrad), or, for the op's own
    output, its output number (the node is passed in at unpack, to keep no reference cycle)."""
    __slots__ = ('packed', 'unpack_hook', 'edge', 'output_nr')

    def __init__(self, packed, unpack_hook, edge, output_nr):
        self.packed, self.unpack_hook, self.edge, self.output_nr = packed, unpack_hook, edge, output_nr

    def unpack(self, node, graph):
        """The unpacked tensor: its array in a plain backward; under create_graph a tensor on the original's
        edge (the node's own output for an output entry), so the graph of the backward reaches it as before."""
        t = self.unpack_hook(self.packed)
        Tensor = _graph.Tensor
        if not isinstance(t, Tensor):
            raise TypeError('Output of saved tensor unpack_hook expected to be a Tensor but got result of type '
                            f'{type(t).__name__}')
        if not graph:
            return t._data
        e = (node, self.output_nr) if self.output_nr is not None else self.edge
        v = Tensor._make(t._data)
        if e is None:
            return v
        v._requires_grad = True
        if type(e[0]) is _graph.AccumulateGrad:
            v._accum, v._accum_edge = e[0], e
        else:
            v.grad_fn, v._output_nr = e
        return v


def _pack(node, entry, hooks):
    """The packed form of one saved entry (entries that are no saved tensor pass unchanged)."""
    if type(entry) is not tuple or entry[0] is PACKED:
        return entry
    pack_hook, unpack_hook = hooks
    if len(entry) == 3:
        t = entry[0]
        rec = _Packed(pack_hook(t), unpack_hook, _graph.edge(t) if t._requires_grad else None, None)
    elif len(entry) == 4:
        nr = entry[3]
        rec = _Packed(pack_hook(_graph._rebuild(entry[0], node, nr)), unpack_hook, None, nr)
    else:
        return entry
    return (PACKED, _NEVER, -1, rec)


class SavedTensor(metaclass=TorchNamedType):
    """``grad_fn._raw_saved_self`` and kin: one tensor a node saved (PyTorch's torch._C._autograd.SavedTensor).
    ``register_hooks(pack_hook, unpack_hook)`` gives it its own pair of hooks: it is packed now, and backward (or
    ``_saved_self``) reads ``unpack_hook(packed)``; ``data`` is the saved tensor, or what the pack hook returned."""
    __slots__ = ('_node', '_k')

    def __init__(self, node, k):
        self._node, self._k = node, k

    def __repr__(self):
        return object_repr(self)

    def register_hooks(self, pack_hook, unpack_hook):
        node = self._node
        saved = node._saved
        if saved is None:
            raise RuntimeError('Calling register_hooks on a saved tensor after it has been freed. Saved intermediate '
                               'values of the graph are freed when you call .backward() or autograd.grad(). Specify '
                               'retain_graph=True if you need to backward through the graph a second time or if you '
                               'need to access saved variables after calling backward.')
        entry = saved[self._k]
        if entry is not None and entry[0] is PACKED:
            raise RuntimeError('Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only '
                               'one pair of hooks is allowed at a time.')
        entries = list(saved)
        entries[self._k] = _pack(node, entry, (pack_hook, unpack_hook))
        node.__dict__['_saved'] = tuple(entries)   # past _PackingSlot: the thread's hooks do not pack it again
        node._epoch = -1

    @property
    def data(self):
        entry = self._node._saved[self._k]
        if entry is not None and entry[0] is PACKED:
            return entry[3].packed
        return self._node.saved(True)[self._k]


def unpack_all(node, entries, graph):
    """``node.saved()`` of entries a pack hook took: each unpacked, in the order they were packed (PyTorch unpacks in
    its saving order); an entry left unpacked (saved before the hooks were set) is read as saved() reads it."""
    out = [None] * len(entries)
    for i in getattr(type(node), '_pack_order', None) or range(len(entries)):
        e = entries[i]
        if e is not None and e[0] is PACKED:
            out[i] = e[3].unpack(node, graph)
    for i, e in enumerate(entries):
        if e is not None and e[0] is not PACKED:
            tmp = Node.__new__(Node)
            tmp._saved = (e,)
            out[i] = Node.saved(tmp)[0]
    return out


class _PackingSlot:
    """``Node._saved`` while hooks are set in some thread: storing entries packs them with this thread's innermost
    hooks (in the order PyTorch saves them: a node class may name it as ``_pack_order``); reading is as before."""

    def __get__(self, node, cls=None):
        if node is None:
            return ()
        return node.__dict__.get('_saved', ())

    def __set__(self, node, value):
        stack = STATE.stack
        if value and stack:
            order = getattr(type(node), '_pack_order', None) or range(len(value))
            out = list(value)
            for i in order:
                out[i] = _pack(node, value[i], stack[-1])
            value = tuple(out)
            node._epoch = -1
        node.__dict__['_saved'] = value

    def __delete__(self, node):
        node.__dict__.pop('_saved', None)


_SLOT = _PackingSlot()


def push(pack_hook, unpack_hook):
    """Set a pair of hooks in this thread (PyTorch's _push_saved_tensors_default_hooks)."""
    if STATE.disabled is not None:
        raise RuntimeError(STATE.disabled)
    with _LOCK:
        _ACTIVE[0] += 1
        Node._saved = _SLOT
    STATE.stack = STATE.stack + ((pack_hook, unpack_hook),)


def pop():
    """Unset this thread's innermost pair."""
    STATE.stack = STATE.stack[:-1]
    with _LOCK:
        _ACTIVE[0] -= 1
        if not _ACTIVE[0]:
            Node._saved = ()


class saved_tensors_hooks:
    """Context manager setting ``pack_hook(tensor) -> Any`` and ``unpack_hook(packed) -> Tensor`` for every tensor
    ops save for backward while it is active (the innermost pair applies; the hooks are per thread)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        push(self.pack_hook, self.unpack_hook)

    def __exit__(self, *args):
        pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors kept on the CPU and moved back to their device for backward: ember's tensors are all on the
    CPU, so each is kept as a CPU tensor (``tensor.cpu()``, the tensor itself) as PyTorch keeps a CPU one."""

    def __init__(self, pin_memory=False, device_type='cuda'):
        def pack_to_cpu(tensor):
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)
        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Context manager (and decorator) under which setting saved-tensor hooks in this thread raises
    RuntimeError(error_message)."""
    if STATE.stack:     # PyTorch refuses to disable them while a pair is set
        raise RuntimeError(error_message)
    prev = STATE.disabled
    STATE.disabled = error_message
    try:
        yield
    finally:
        STATE.disabled = prev
