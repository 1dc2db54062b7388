"""The backward graph: ``Node`` (a tensor's ``grad_fn``), saved tensors with version checks, and
``AccumulateGrad`` for leaves.

A backward formula is written once and runs in two modes. Normally it receives NumPy arrays (fast,
nothing recorded). Under ``create_graph=True`` it receives Tensors, so the same formula records a
differentiable graph of the backward pass (higher-order gradients). ``dual`` holds the few helpers
whose spelling differs between the two.
"""
import itertools
import sys
import threading

import numpy as np

from .. import _bf16, _meta, _parallel

from .grad_mode import GRAD, as_user
from .._hooks import RemovableHandle

Tensor = None   # bound by ember.tensor once the class exists (tensor imports autograd)
_new = object.__new__
# A node's creation number (PyTorch's sequence_nr): the engine runs the newest ready node first. Every way of making a
# node stamps it, as ``node._seq = next(SEQ)``: ~24 ns a node (thread CPU time, medians of 21), 3 less than count's
# __next__ (a method-wrapper), 1 less than count(-1, -1) (which would key a min-heap without negation)
SEQ = itertools.count()
LEAF_SEQ = 1 << 62    # AccumulateGrad's (PyTorch's is UINT64_MAX): a leaf's gradient lands as soon as it is ready


MODE = GRAD             # per thread, while a backward pass runs: graph is create_graph; release is not
                        # retain_graph (a node may then free what it saved as soon as it no longer needs it)
RECORDING = [0]         # create_graph passes running now, in any thread: while 0, MODE.graph is False everywhere,
                        # and saved() skips that thread-local read (50-90 ns of a (4, 4) MulBackward0's 700)
_RECORDING_LOCK = threading.Lock()
ANOMALY = [False, True]  # anomaly detection on, and its NaN check (ember.autograd.anomaly_mode); global as PyTorch's
BUMPS = [0]             # in-place changes (version bumps) so far, in any thread: a node that records BUMPS[0] before it
                        # reads the versions it saves (``_epoch``) and finds it unchanged in backward has no saved
                        # version to check (Tensor._bump counts after the version: a bump in between is seen)


def recording(step):
    """Count a create_graph pass in (1) or out (-1) of RECORDING."""
    with _RECORDING_LOCK:
        RECORDING[0] += step

_FREED = ('Trying to backward through the graph a second time (or directly access saved tensors after '
          'they have already been freed). Saved intermediate values of the graph are freed when you call '
          '.backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the '
          'graph a second time or if you need to access saved tensors after calling backward.')


def _version_cell(t):
    """The version counter shared by a tensor and its views (created on first need)."""
    b = t._base if t._base is not None else t
    vc = b._vc
    if vc is None:
        vc = b._vc = [0]
    return vc


class Node:
    """One recorded op of the backward graph. Subclasses define ``backward(self, *grads)`` returning one
    gradient (or None) per input, in the order of ``next_functions``."""
    __slots__ = ('next_functions', '_seq', '__weakref__', '__dict__')
    _saved = ()             # saved-tensor entries; None once released after backward
    _pre_hooks = None
    _hooks = None
    _n_out = 1              # number of outputs (set with _out_meta)
    _special = False        # has hooks or several outputs: the engine takes its slower, general path
    _epoch = -1             # BUMPS[0] when it saved its inputs, where a backward reads that (else never current)
    _unchecked = ()         # positions of saved inputs PyTorch's node does not save: changing them is allowed
    _guards = None          # (tensor or array, version cell, version, output_nr or None for an input) of what PyTorch's
                            # node saves and this node's backward does not read through saved() (see guard)
    _need_order = None      # True where ``need`` holds a switch per edge, a tuple (edge -> its index in need) where
                            # in another order: the engine may switch off the gradients no one asked for (see
                            # engine._masked_backward)

    def __init__(self, inputs):
        self._seq = next(SEQ)
        self.next_functions = tuple([_NO_EDGE if t is None else edge(t) for t in inputs])

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f'<{type(self).__name__} object at {hex(id(self))}>'

    def __dir__(self):
        """The attributes, less the saved ones this node lacks (a ``_saved_other`` of a node that saved nothing: its
        class has the property, PyTorch's node has no such name; torchviz reads every ``_saved_`` name it lists)."""
        return [n for n in super().__dir__() if not n.startswith(('_saved_', '_raw_saved_')) or _has(self, n)]

    @property
    def metadata(self):
        """A dict for the user's data about this node (PyTorch's ``Node.metadata``), made on first access."""
        d = self.__dict__.get('_metadata')
        if d is None:
            d = self.__dict__['_metadata'] = {}
        return d

    # -- saved tensors ------------------------------------------------------------------------------
    def save(self, *tensors):
        """Save input tensors (or None) for backward, remembering their versions."""
        self._saved = tuple([None if t is None else saved_entry(t) for t in tensors])

    def save_output(self, out):
        """Save this node's own output without a reference cycle: its array, rebuilt as a tensor on need."""
        vc = out._vc
        if vc is None:
            vc = out._vc = [0]
        self._saved = self._saved + ((out._data, vc, vc[0], out._output_nr),)

    def saved(self, graph=None):
        """The saved values: arrays in a plain backward, Tensors when recording (create_graph=True) or asked
        for (``graph=True``)."""
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED)
        if graph is None:
            graph = RECORDING[0] and MODE.graph
        out = []
        for e in s:
            if e is None:
                out.append(None)
            elif len(e) == 3:   # an input: (tensor, its version cell or None, version)
                obj, vc, ver = e
                if vc is None:   # none at save time (version 0): one may exist now
                    base = obj._base
                    vc = (obj if base is None else base)._vc
                if vc is not None and vc[0] != ver and (not self._unchecked or _position(s, e) not in self._unchecked):
                    _raise_modified(self, obj, vc[0], ver, False)
                out.append(obj if graph else obj._data)
            else:               # this node's output: (array, version cell, version, output_nr)
                arr, vc, ver, nr = e
                if vc[0] != ver:
                    if arr is PACKED:   # given to a pack hook (_saved_hooks): all unpacked there, in order
                        return _saved_hooks.unpack_all(self, s, graph)
                    _raise_modified(self, arr, vc[0], ver, True, nr)
                out.append(_rebuild(arr, self, nr) if graph else arr)
        return out

    def saved_checked(self, which):
        """PyTorch's errors (freed, changed in place) for the saved inputs at positions ``which``, for a node whose
        backward reads state it kept itself rather than these tensors."""
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED)
        for k in which:
            e = s[k] if k < len(s) else None
            if e is not None and len(e) == 3:
                obj, vc, ver = e
                if vc is None:
                    base = obj._base
                    vc = (obj if base is None else base)._vc
                if vc is not None and vc[0] != ver:
                    _raise_modified(self, obj, vc[0], ver, False)

    def guard(self, *tensors, outputs=()):
        """Raise PyTorch's error in backward if ``tensors`` (inputs) or ``outputs`` (this node's results) change in place
        after the forward: PyTorch's node saves them, ember's backward reads arrays it kept (indices, a norm)."""
        g = self._guards or ()
        for t in tensors:    # (plain loops: two comprehensions cost 1.5 us of a 10 us gather's forward)
            if t is not None:
                vc = _version_cell(t)
                g += ((t, vc, vc[0], None),)
        for t in outputs:
            vc = _version_cell(t)
            g += ((t._data if t.grad_fn is self else t, vc, vc[0], t._output_nr),)
        self._guards = g
        cls = type(self)
        if '_guarded' not in cls.__dict__:
            self.__class__ = _guarded_class(cls)

    def release(self):
        """Free saved tensors once backward is done with them (retain_graph=False)."""
        if self._saved:
            self._saved = None

    # -- hooks --------------------------------------------------------------------------------------
    def register_hook(self, fn):
        """Hook called as fn(grad_inputs, grad_outputs) after this node ran; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
            self._special = True
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def register_prehook(self, fn):
        """Hook called as fn(grad_outputs) before this node runs; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
            self._special = True
        self._pre_hooks.append(('node', fn))
        return _Handle(self._pre_hooks, ('node', fn))

    def _tensor_prehook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = []
            self._special = True
        entry = (output_nr, fn)
        self._pre_hooks.append(entry)
        return _Handle(self._pre_hooks, entry)

    def apply_(self, grads):
        return self.backward(*grads)

    @property
    def _out_meta(self):
        """[(shape, dtype)] per output, for nodes with several outputs (None for one output)."""
        return self.__dict__.get('_om')

    @_out_meta.setter
    def _out_meta(self, meta):
        self.__dict__['_om'] = meta
        self._n_out = 1 if meta is None else len(meta)
        self._special = self._n_out != 1 or self._hooks is not None or self._pre_hooks is not None


_GUARDED = {}


def _guarded_class(cls):
    """``cls`` with a backward that first checks the node's guards (same name and layout; a node switches to it in
    guard()), so that the engine's paths for nodes without guards pay nothing for them."""
    g = _GUARDED.get(cls)
    if g is None:
        plain = cls.backward

        def backward(self, *grads):
            for obj, vc, ver, nr in self._guards:
                if vc[0] != ver:
                    _raise_modified(self, obj, vc[0], ver, nr is not None and type(obj) is np.ndarray, nr)
            return plain(self, *grads)
        g = _GUARDED[cls] = type(cls.__name__, (cls,), {'__slots__': (), '_guarded': True, 'backward': backward,
                                                        '__module__': cls.__module__, '__qualname__': cls.__qualname__,
                                                        '__doc__': cls.__doc__})
    return g


PACKED = object()    # the first field of a saved entry a pack hook took (see saved_hooks): (PACKED, _NEVER, -1,
_NEVER = [0]        # _Packed); its version -1 never matches, so every fast path that reads entries falls to saved()


def saved_entry(t):
    """A saved input: the tensor, its version cell and its version now. A tensor that has no version
    cell yet is at version 0; the cell is created by the first in-place change."""
    b = t._base
    vc = (t if b is None else b)._vc
    if vc is None:
        return (t, None, 0)
    if type(vc) is not list:    # the inference tensors' shared cell (tensor._InferenceCell)
        raise RuntimeError(_INFERENCE_SAVED)
    return (t, vc, vc[0])


_INFERENCE_SAVED = ('Inference tensors cannot be saved for backward. Please do not use Tensors created in inference '
                    'mode in computation tracked by autograd. To work around this, you can make a clone to get a '
                    'normal tensor and use it in autograd, or use `torch.no_grad()` instead of '
                    '`torch.inference_mode()`.')


class _Handle(RemovableHandle):
    """Returned by a tensor's or a node's register_hook (a RemovableHandle, as PyTorch's: ``remove()``, ``with``,
    ``id``); ``remove()`` takes the hook out of the list it was appended to."""

    def __init__(self, lst, item):
        self._list, self._item = lst, item
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self):
        try:
            self._list.remove(self._item)
        except ValueError:
            pass


# PyTorch's tensor and node hooks return a RemovableHandle itself: ``type(h).__name__`` says so (the
# optimizer_step_in_backward tutorial's handles)
_Handle.__name__ = _Handle.__qualname__ = 'RemovableHandle'
_Handle.__module__ = RemovableHandle.__module__


def _like_layout(a, g):
    """A copy of gradient ``g`` laid out as leaf ``a`` when ``a`` is dense with permuted strides (a transposed
    leaf), as PyTorch's AccumulateGrad keeps a non-overlapping, dense parameter's strides; else C-contiguous."""
    out = np.empty_like(a, order='K')
    if out.strides != a.strides:
        out = np.empty(a.shape, a.dtype)
    out[...] = g
    return out


class AccumulateGrad(Node):
    """The graph node of a leaf that requires grad: adds the incoming gradient into ``leaf.grad``."""
    __slots__ = ('variable',)
    _seq = LEAF_SEQ     # shadows Node's slot: every leaf has the same, highest priority

    def __init__(self, variable):
        self.next_functions = ()
        self.variable = variable

    _post_hooks = None      # hooks called with the leaf after each accumulation

    def name(self):
        return 'torch::autograd::AccumulateGrad'

    def register_post_hook(self, fn):
        """Tensor.register_post_accumulate_grad_hook: call fn(leaf) after each accumulation."""
        if self._post_hooks is None:
            self._post_hooks = []
            self._special = True
        self._post_hooks.append(fn)
        return _Handle(self._post_hooks, fn)

    def accumulate(self, g, sole=False):
        """Add gradient ``g`` into the leaf's ``.grad``. ``sole``: the engine holds the only reference to array
        ``g``, so a first ``.grad`` may take it without a copy (PyTorch's steal of an unshared gradient)."""
        v = self.variable
        if not v._requires_grad:   # detached in place (p.detach_()) since the graph was recorded: PyTorch skips it
            return
        if _parallel.LATER is not None:
            _settle_read(v, g, sole)
        if type(g) is np.ndarray or not isinstance(g, Tensor):
            a = v._data
            if type(g) is not np.ndarray:
                g = _bf16.adopt(g)
            if g.dtype is not a.dtype:
                g = _bf16.adopt(g.astype(a.dtype))
            if g.shape != a.shape:
                g = np.broadcast_to(g, a.shape)
            vg = v._grad
            if type(a) is _meta.MetaArray:  # a meta leaf's gradient is a meta tensor, nothing to add
                if vg is None:
                    v._grad = Tensor._make(_meta.placeholder(a.shape, a.dtype))
            elif vg is None:
                v._grad = t = _new(Tensor)
                if not a.flags.c_contiguous and a.size > 1:
                    t._data = _like_layout(a, g)
                else:
                    t._data = g if sole and (_stealable(g) or _parallel.fresh(g)) else g.copy()
                t._requires_grad = False
                t._grad = t.grad_fn = None
            elif vg.grad_fn is None and vg._data.flags.writeable:
                np.add(vg._data, g, out=vg._data, casting='unsafe')
                vg._bump()   # (PyTorch's in-place +=: .grad's version counts the accumulations)
            else:
                v._grad = Tensor._make(vg._data + g)
        else:
            if g.dtype is not v.dtype:
                g = g.to(v.dtype)
            if g.is_sparse:     # nn.Embedding(sparse=True)'s: kept sparse, summed without a dense table
                v._grad = g._alias() if v._grad is None else v._grad + g
            elif v.grad is None:   # a copy, as PyTorch's (CopyBackwards): changing g later leaves .grad alone
                v.grad = _graph_copy(g) if g.grad_fn is not None else g.detach().clone()
            else:
                v.grad = v.grad + g
        if self._post_hooks:
            _parallel.settle()
            for hook in tuple(self._post_hooks):   # PyTorch lets a hook return None or the leaf itself
                result = as_user(hook, v)
                if result is not None and not isinstance(result, Tensor):
                    raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
                if result is not None and result is not v:
                    raise RuntimeError('Tensor post accumulate grad hooks should return None.')


def _settle_read(v, g, sole):
    """Settle the product still running on a pool thread (_parallel.later) when accumulating ``g`` into leaf ``v``
    reads its array: ``g`` is it and is not taken as a first ``.grad`` whole, or ``.grad`` already is it."""
    vg = v._grad
    if vg is None and sole and _parallel.fresh(g) and g.dtype is v._data.dtype and g.shape == v._data.shape:
        return
    if _parallel.touches(g, None if vg is None else vg._data):
        _parallel.settle()


def _sole_refs():
    """What ``sys.getrefcount`` says of an array held only by a loop shaped as the engine's (a tuple, zip's
    reused result, the loop variable; engine._drain must keep that shape): measured, since interpreters count
    their stack references differently."""
    out = (np.empty(0),)
    for (_, _), g in zip(((None, 0),), out):
        return _refcount(g)


def _base_sole_refs():
    """What ``sys.getrefcount(g.base)`` says of a base held by view ``g`` alone."""
    g = np.empty(2)[:1]
    b = g.base
    return _refcount(b)


_refcount = sys.getrefcount
SOLE_REFS = _sole_refs()
_BASE_SOLE_REFS = _base_sole_refs()


def _stealable(g):
    """Whether an unshared gradient array may become ``.grad`` as it is: writeable, C-contiguous (the layout
    a copy would have), owning its memory or a whole view of a base nothing else holds. Saves the copy (and
    the fresh pages) of every first gradient: ResNet-18's 44 MB per step, accumulation 5.1 -> 0.25 ms a step."""
    f = g.flags   # each read of g.flags makes a new object: read once (20 ns)
    if not (f.c_contiguous and f.writeable):
        return False
    b = g.base
    if b is None:
        return True
    return type(b) is np.ndarray and b.base is None and b.nbytes == g.nbytes and _refcount(b) <= _BASE_SOLE_REFS


_NO_EDGE = (None, 0)


class CopyBackwards(Node):
    """A copy into a new tensor (a leaf's first ``.grad`` under create_graph=True): the gradient goes to the
    source; the first edge is the empty destination's, as in PyTorch's ``next_functions``."""
    __slots__ = ()

    def name(self):
        return 'torch::autograd::CopyBackwards'

    def backward(self, g):
        return None, g


def _graph_copy(g):
    """A copy of tensor ``g`` recorded as CopyBackwards (PyTorch's accumulation of a gradient with history)."""
    return Tensor._make(g._data.copy(), CopyBackwards((None, g)))


class StaleView(Node):
    """The history of a view autograd cannot follow through its base's in-place change (ops._views._refusal):
    PyTorch raises on reading its grad_fn, ember when an op records it (edge) or a gradient reaches it."""
    __slots__ = ('message',)

    def name(self):
        return 'AsStridedBackward0'

    def backward(self, g):
        raise RuntimeError(self.message)


def edge(t):
    """The edge an op records to its input ``t``: (grad_fn, output_nr) for an op's result, (its
    AccumulateGrad, 0) for a leaf that requires grad (both made once per leaf), else no edge. Every op
    builds its edges here."""
    fn = t.grad_fn
    if fn is not None:
        if fn.__class__ is StaleView:
            raise RuntimeError(fn.message)
        return (fn, t._output_nr)
    if not t._requires_grad:
        return _NO_EDGE
    e = t._accum_edge
    if e is None:
        acc = t._accum
        if acc is None:
            acc = t._accum = AccumulateGrad(t)
        e = t._accum_edge = (acc, 0)
    return e


def _edge(t):
    """``edge``, also for a missing (None) input."""
    return _NO_EDGE if t is None else edge(t)


def _rebuild(arr, node, output_nr):
    t = Tensor._make(arr, node)
    t._output_nr = output_nr
    return t


def _op_name(fn):
    """How PyTorch's version error names a node: ``MulBackward0`` -> ``Mul``, ``UnsqueezeBackward1`` ->
    ``Unsqueeze1``."""
    name = fn.name()
    return name[:-9] if name.endswith('Backward0') else name.replace('Backward', '')


def _position(entries, e):
    """The index of saved entry ``e`` (by identity: an entry holds tensors, whose == is elementwise)."""
    return next(k for k, x in enumerate(entries) if x is e)


def _raise_modified(node, obj, now, then, is_output, output_nr=0):
    """PyTorch's error for a saved ``obj`` (a tensor, or with ``is_output`` the array of ``node``'s output
    ``output_nr``) changed in place from version ``then`` to ``now``."""
    arr = obj if is_output else obj._data
    from .._dtype import from_np, type_string
    shape = ', '.join(map(str, arr.shape))
    fn, nr = (node, output_nr) if is_output else (obj.grad_fn, obj._output_nr)
    name = None if fn is None else _op_name(fn)
    if not is_output and fn is not None and obj._base is not None and name not in ('ViewAsReal', 'ViewAsComplex'):
        # (view_as_real's and view_as_complex's own views change the dtype: PyTorch replays them by name)
        name, nr = 'AsStrided', 0   # (a view whose memory changed: PyTorch regenerates its grad_fn on reading)
    view = None if is_output else getattr(node, '_view_saved_shape', None)
    view = None if view is None else view(obj)
    if view is not None:   # PyTorch saved a view of obj (F.linear's weight.t()): its shape, regenerated as AsStrided
        shape = ', '.join(map(str, view))
        fn, name, nr = (True, 'AsStrided', 0) if obj.grad_fn is not None or obj._requires_grad else (None, None, 0)
    where = '' if fn is None else f', which is output {nr} of {name},'
    raise RuntimeError(
        'one of the variables needed for gradient computation has been modified by an inplace operation: '
        f'[{type_string(from_np(arr.dtype))} [{shape}]]{where} is at version {now}; '
        f'expected version {then} instead. Hint: {_modified_hint()}')


def saved_properties(*names):
    """``_saved_self``, ``_saved_other``, ``_saved_result`` for a node class whose saved values are, in order,
    ``names``: each a tensor by the name PyTorch's node gives it (the input itself, a new tensor sharing the output's
    data; None when the op did not need it); and ``_raw_saved_self``... for each, its SavedTensor (to set hooks
    on). Properties, not a ``__getattr__``: a class with one reads every attribute through a slower slot (an 8-op
    tanh/mul chain fwd+bwd lost 3%)."""
    def prop(k, name):
        def get(node):
            saved = node.saved(True)
            if k < len(saved):
                return saved[k]
            # add and sub save nothing: PyTorch's nodes have no such attribute
            raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")
        return property(get)

    def raw(k, name):
        def get(node):
            saved = node._saved
            if saved is not None and k >= len(saved):
                raise AttributeError(f"'{type(node).__name__}' object has no attribute '_raw_saved_{name}'")
            return _saved_hooks.SavedTensor(node, k)
        return property(get)
    props = {f'_saved_{name}': prop(k, name) for k, name in enumerate(names)}
    props.update({f'_raw_saved_{name}': raw(k, name) for k, name in enumerate(names)})
    return props


def _has(node, name):
    """Whether ``node.<name>`` reads (an error other than AttributeError, as a freed node's, counts as there)."""
    try:
        getattr(node, name)
    except AttributeError:
        return False
    except Exception:
        return True
    return True


def saved_attributes(cls, **getters):
    """Give node class ``cls`` PyTorch's ``_saved_<name>`` attributes besides its saved tensors (sizes, strides,
    scalars: what torchviz's ``make_dot(show_attrs=True)`` lists), each read as ``getters[name](node)``."""
    for name, get in getters.items():
        setattr(cls, f'_saved_{name}', property(get))


def _modified_hint():
    """PyTorch's hint after the version error: where anomaly mode's backtrace is, or how to turn it on."""
    from .anomaly_mode import is_anomaly_enabled
    if is_anomaly_enabled():
        return ('the backtrace further above shows the operation that failed to compute its gradient. '
                'The variable in question was changed in there or anywhere later. Good luck!')
    return ('enable anomaly detection to find the operation that failed to compute its gradient, '
            'with torch.autograd.set_detect_anomaly(True, check_nan=False).')


from . import _saved_hooks  # noqa: E402
from ._saved_hooks import saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks  # noqa: E402
from ._graph_api import (GradientEdge, get_gradient_edge, increment_version, register_multi_grad_hook,  # noqa: E402
                         allow_mutation_on_saved_tensors, region_activation_memory_budget,
                         set_warn_on_accumulate_grad_stream_mismatch, set_override_stale_capture_stream)
