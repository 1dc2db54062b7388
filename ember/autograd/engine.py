"""The backward pass: one topological walk from the outputs, counting dependencies, so each node runs
once, after every gradient flowing into it has been summed."""
import sys

import numpy as np

from .. import _meta, _parallel, _quiet
from .._bf16 import BF16Array, adopt, is_bf16
from .graph import _NO_EDGE, ANOMALY, LEAF_SEQ, MODE, SOLE_REFS, AccumulateGrad, _edge, recording
from .function import BackwardCFunction
from .grad_mode import GRAD, OFF, _ident, as_user
from . import _graph_api
from ._graph_api import MULTI

Tensor = None   # bound by ember.tensor once the class exists (tensor imports autograd)
_refcount = sys.getrefcount
_NDARRAY = np.ndarray
_ONES = {}      # cached read-only seeds for scalar outputs, by (shape, dtype)
_SCALAR_ONES = {}   # those of 0-d outputs, by dtype alone (backward_scalar's lookup)


def _shape_str(shape):
    return 'torch.Size([' + ', '.join(map(str, shape)) + '])'


def _mixed_sum(a, b):
    """Two gradients of one output summed, of two types: an array (ndarray or ember's complex or bf16 one) and a
    tensor (sparse, or under create_graph) as tensors, by ember's add (Tensor's ``+`` leaves an ndarray operand
    to NumPy, as PyTorch's does: see ops._numpy_operand; add itself takes no ndarray, as PyTorch's). Two bf16
    arrays (a backward's NumPy result is not rounded until a tensor adopts it) are rounded, then their sum:
    PyTorch's engine adds two bf16 tensors. A backward's bf16 result may also be a plain ndarray of bf16's dtype
    (a non-native float32), whose sum NumPy would give in native float32."""
    from ..ops.pointwise import _add
    if _bf16_grad(a) and _bf16_grad(b):
        return adopt(adopt(a) + adopt(b))
    if isinstance(a, Tensor) == isinstance(b, Tensor):
        return a + b
    return _add(a, Tensor._make(b)) if isinstance(a, Tensor) else _add(b, Tensor._make(a))


def _bf16_grad(g):
    """Whether gradient ``g`` is a bf16 array: a BF16Array, or an ndarray of bf16's (non-native) dtype."""
    return type(g) is BF16Array or type(g) is np.ndarray and is_bf16(g.dtype)


def _seed(t, g, i, create_graph):
    """The seed gradient of output ``t``: ones for a scalar, else ``g`` checked against t's shape."""
    if not isinstance(t, Tensor):
        raise TypeError(f'backward: expected a Tensor as output {i}, got {type(t).__name__}')
    if not t._requires_grad:
        raise RuntimeError(f'element {i} of tensors does not require grad and does not have a grad_fn')
    a = t._data
    if g is None:
        if a.size != 1:
            raise RuntimeError('grad can be implicitly created only for scalar outputs')
        if a.dtype.kind == 'c':
            raise RuntimeError(f'grad can be implicitly created only for real scalar outputs but got {t.dtype}')
        key = (a.shape, a.dtype)
        g = _ONES.get(key) if type(a) is not _meta.MetaArray else _meta.placeholder(a.shape, a.dtype)
        if g is None:
            g = _ONES[key] = np.ones(a.shape, a.dtype)
            g.flags.writeable = False
            if not a.ndim:
                _SCALAR_ONES[a.dtype] = g
    elif isinstance(g, Tensor):
        if g._data.shape != a.shape:
            raise RuntimeError(f'Mismatch in shape: grad_output[{i}] has a shape of {_shape_str(g._data.shape)} '
                               f'and output[{i}] has a shape of {_shape_str(a.shape)}.')
        if g._data.dtype != a.dtype:    # PyTorch's validate_outputs casts a seed to its output's dtype
            if (g._data.dtype.kind == 'c') != (a.dtype.kind == 'c'):
                raise RuntimeError(f'For complex Tensors, both grad_output and output are required to have the same '
                                   f'dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and '
                                   f'output[{i}] has a dtype of {t.dtype}.')
            g = g.to(t.dtype)
        g = g if create_graph else g._data
    else:
        g = np.asarray(g, dtype=a.dtype)
    if create_graph and not isinstance(g, Tensor):
        g = Tensor._make(g)
    return g


def _dependencies(roots):
    """For every node reachable from ``roots``: how many edges point at it. The last new child of a node is
    walked next without the stack (256-op chain: 115 -> 88 ns per node, min of interleaved runs)."""
    deps = {}
    for root in roots:   # not dict.fromkeys, a classmethod call: 130 ns of a one-node walk's 410 (now 290)
        deps[root] = 0
    stack = list(roots)
    while stack:   # stack.pop/append called as methods: no bound methods to make (4-op chain: 654 -> 580 ns)
        node = stack.pop()
        while node is not None:
            edges, node = node.next_functions, None
            for child, _ in edges:
                if child is None:
                    continue
                if child in deps:
                    deps[child] += 1
                    continue
                deps[child] = 1
                if node is not None:
                    stack.append(node)
                node = child
    return deps


def _prune(deps, targets, masks=None):
    """Keep only the nodes from which a target can be reached (and recount their dependencies). ``masks``, a dict,
    receives each kept node that has an edge into a node not kept: a tuple, per edge, of whether it leads on (what
    PyTorch's nodes ask of ``task_should_compute_output``; the gradients of the others are neither computed nor
    seen by hooks)."""
    needed = {}
    for node in _post_order(deps):
        needed[node] = node in targets or any(needed.get(c, False) for c, _ in node.next_functions if c is not None)
    kept = {n: 0 for n, keep in needed.items() if keep}
    for n in kept:
        cut = False
        for c, _ in n.next_functions:
            if c is not None:
                if c in kept:
                    kept[c] += 1
                else:
                    cut = True
        if cut and masks is not None:
            masks[n] = tuple(c is None or c in kept for c, _ in n.next_functions)
    return kept


def _post_order(deps):
    order, seen = [], set()
    for root in deps:
        if root in seen:
            continue
        stack = [(root, iter(root.next_functions))]
        seen.add(root)
        while stack:
            node, it = stack[-1]
            for child, _ in it:
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                order.append(node)
                stack.pop()
    return order


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=True):
    """Run the backward pass. With ``inputs``, returns their gradients; with ``accumulate`` the
    leaves' ``.grad`` (or only those of ``inputs``) receive them."""
    if retain_graph is None:
        retain_graph = create_graph
    buffers = {}
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if isinstance(t, tuple):    # a GradientEdge, its gradient given
            node, nr = t[0], t[1]
            g = g if create_graph else g._data
        else:
            g = _seed(t, g, i, create_graph)
            node, nr = _edge(t)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_out
        b = buf[nr]
        buf[nr] = g if b is None else b + g if type(g) is type(b) is not BF16Array and \
            (type(g) is not np.ndarray or g.dtype.isnative) else _mixed_sum(b, g)

    deps = _dependencies(list(buffers))
    targets = captured = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            node, nr = (t[0], t[1]) if isinstance(t, tuple) else _edge(t)   # a tensor or a GradientEdge
            if node is None:
                raise RuntimeError('One of the differentiated Tensors does not require grad')
            targets.setdefault(node, []).append((nr, i))
        masks = {}
        deps = _prune(deps, targets, masks)
        captured = [None] * len(inputs)
        # autograd.grad does not run an input's own node when no other input lies below it (PyTorch captures
        # the gradient at the node's input and leaves it unrun: its hooks do not fire and its saved tensors stay
        # for a later backward through it); backward(inputs=) runs every node, as PyTorch's does
        ends = () if accumulate else {n for n in targets if not any(c in deps for c, _ in n.next_functions)}
    ready = [(n, buffers.pop(n)) for n in list(buffers) if deps.get(n, 1) == 0]
    for n in buffers:   # outputs that other outputs lead to: seeded buffers waiting for more edges
        if n in deps:
            deps[n] = -deps[n]
    _execute(ready, buffers, deps, retain_graph, create_graph,
             None if targets is None else (targets, captured, inputs, accumulate, ends, masks))
    if inputs is not None:
        return _results(captured, inputs, allow_unused)
    return None


def backward_scalar(t, retain_graph):
    """``t.backward()`` for a scalar non-leaf output: run_backward without the general setup."""
    node = t.grad_fn
    a = t._data
    if node is None or a.size != 1 or t._output_nr or node._n_out != 1:
        return run_backward((t,), (None,), retain_graph, False)
    # a 0-d output's seed by its dtype alone: no (shape, dtype) key to build and hash (with _execute's one ident
    # read: 4-op chain backward alone 1377 -> 1303 ns/op, in-process A/B against main, medians of 41, load 6.5)
    g = _SCALAR_ONES.get(a.dtype) if not a.ndim and type(a) is np.ndarray else None    # (a meta one: _seed's)
    if g is None:
        g = _seed(t, None, 0, False)
    _execute([(node, [g])], {}, None, retain_graph, False, None)   # deps None: walked by _drain after _chain


def _execute(ready, buffers, deps, retain_graph, create_graph, wanted):
    """Run ready nodes until none is left, passing each one's input gradients on to its children; a
    child becomes ready when its last incoming edge has delivered (``deps`` counts what is left).
    ``wanted``: (targets, captured, inputs, accumulate, ends, masks) for autograd.grad and backward(inputs=):
    ``ends`` the targets that capture their gradient and do not run, ``masks`` _prune's.
    Grad mode is ``create_graph`` while it runs, and restored after."""
    st = GRAD.__dict__      # this thread's flags (GRAD is MODE): one thread-local lookup, then dict items
    prev = st['graph'], st['release'], st['enabled'], st['callbacks'], st['partial'], st['quiet']
    me = _ident()
    if not create_graph:
        OFF.add(me)   # grad mode goes off in this thread (see grad_mode.OFF)
    st['graph'] = st['enabled'] = create_graph
    st['release'] = not retain_graph
    st['callbacks'] = None
    st['partial'] = wanted is not None
    if create_graph:
        recording(1)
    task = MULTI[0] and _graph_api.Task([n for n, _ in ready] + list(buffers), wanted and wanted[0])
    if task:    # what a multi-grad hook asks about the pass (kept only while one is registered)
        prev_task = st.get('task')
        st['task'] = task
    # no NumPy warning for an inf/NaN gradient, as PyTorch (one switch for the pass); the user's code in it (a custom
    # Function's backward, a hook) runs under the user's state again, through st['quiet'] (grad_mode.as_user)
    st['quiet'] = quiet = _quiet.enter()
    try:
        try:
            _drain(ready, buffers, deps, retain_graph, create_graph, wanted)
        finally:
            if _parallel.LATER is not None:     # tested here: no call when nothing runs (a 1-node backward ~90 ns)
                _parallel.settle()      # a weight gradient's product still running (see _parallel.later)
        if st['callbacks']:
            _run_callbacks(st['callbacks'])
    finally:
        _quiet.leave(quiet)
        st['graph'], st['release'], st['enabled'], st['callbacks'], st['partial'], st['quiet'] = prev
        if prev[2]:
            OFF.discard(me)
        if create_graph:
            recording(-1)
        if task:
            st['task'] = prev_task


def is_checkpoint_valid():
    """False inside a backward pass asked for some inputs' gradients only (autograd.grad, backward(inputs=)),
    where a reentrant checkpoint's inner backward would fill the wrong ``.grad``s (PyTorch's
    ``torch.autograd._is_checkpoint_valid``)."""
    return not GRAD.partial


def queue_callback(fn):
    """Run ``fn()`` once the backward pass now running has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``; DDP waits for its gradient all-reduces this way)."""
    st = GRAD.__dict__
    if st['callbacks'] is False:
        raise RuntimeError('Final callbacks can only be installed during backward pass.')
    if st['callbacks'] is None:
        st['callbacks'] = []
    st['callbacks'].append(fn)


def _run_callbacks(callbacks):
    """The queued end-of-backward callbacks in order, including any that a callback queues."""
    i = 0
    while i < len(callbacks):
        as_user(callbacks[i])
        i += 1


def _drain(ready, buffers, deps, retain_graph, create_graph, wanted):
    """_execute's loop, in PyTorch's order: of the ready nodes the newest (highest creation number, graph.NEXT_SEQ)
    runs first, a leaf's AccumulateGrad before any (PyTorch's ReadyQueue). While a node makes one child ready and
    no older node waits, the child runs next with no queue; only several ready nodes go through ``heap``, a heapq
    that breaks ties between leaves as PyTorch's std::priority_queue (see _push). The child that runs next has its
    gradient carried as ``gin`` with no list around it (``grads`` is then None); along a chain of ops this saves
    a push, a pop and a tuple per node (256-op chain backward, 1.55 -> 1.40 us per node). A node with one child
    (one input, or a binary op's first when the second needs no gradient) that is a plain node waiting for this
    edge alone goes straight on, with no tuple or zip around its gradient (forward+backward per op, min of
    interleaved runs: 4-op chain 3.20 -> 3.05 us, 256-op chain 2.74 -> 2.62 for one input, 2.53 -> 2.48 with
    binary). That hand-on is an inner loop, so a chained node skips the checks a popped node needs (special,
    leaf, no gradient): 16-op chain 2.56 -> 2.48 us/op, 256-op chain 2.38 -> 2.34 (min of interleaved runs)."""
    release = not retain_graph
    plain = wanted is None
    general = not plain or ANOMALY[0]     # anomaly detection checks every node (_run_special)
    if deps is None:    # backward_scalar's one root, not walked yet: its chain first, then the walk of what is left
        node, grads = ready.pop()
        if not general:
            node, grads = _chain(node, grads, release)
            if node is None:
                return
        deps = _dependencies((node,))
        ready.append((node, grads))
    heap = []
    if len(ready) == 1:
        node, grads = ready.pop()
        gin = grads[0]
    else:
        for n, gs in ready:     # several outputs: PyTorch's GraphRoot hands them on in order
            _push(heap, n, gs)
        node = None
    # emptied, not dropped: the caller's list would hold the roots' gradients until the pass ends (the LSTM LM's
    # 28 MB logits gradient: its heap grew past glibc's trim threshold, 5,700 page faults a step)
    ready.clear()
    ready = None
    while True:
        if node is None:
            if not heap:
                return
            node, grads = _pop(heap)
            gin = grads[0]
        if general or node._special:
            out = _run_special(node, [gin] if grads is None else grads, create_graph, wanted)
            if out is None:
                node = None
                continue
        elif type(node) is AccumulateGrad:     # a leaf that waited in the heap
            if gin is not None:
                grads = None
                sole = _refcount(gin) <= _LOCAL_REFS     # its own line (see _chain)
                node.accumulate(gin, sole)
            node = None
            continue
        elif gin is None:
            out = (None,) * len(node.next_functions)
        else:
            # a bfloat16 gradient (a backward's NumPy result, unrounded until adopted) is rounded before a node uses
            # it, as PyTorch's gradients are bfloat16 tensors: here, down the chain below and in _chain and _apply
            out = node.backward(gin if type(gin) is not BF16Array else adopt(gin))
        gin = grads = None   # so that a gradient passed through is held by ``out`` alone (see SOLE_REFS)
        while True:   # along a chain: the one child, a plain node waiting for this edge alone, runs here
            if release and node._saved:
                node._saved = None
            edges = node.next_functions
            if type(out) is not tuple:   # one input
                child = edges[0][0]
                g = out
            elif len(edges) == 2 and edges[1][0] is None:   # a binary op whose second operand needs no gradient
                child = edges[0][0]
                g = out[0]
            else:
                break
            if child is None or g is None or general or deps[child] != 1 or child._special or \
                    type(child) is AccumulateGrad or heap and -child._seq > heap[0][0]:
                break
            node = child
            out = child.backward(g if type(g) is not BF16Array else adopt(g))
        if type(out) is not tuple:
            out = (out,)
        # the children this node makes ready, in the order of its edges: the first in node (gin or grads), the others
        # after it in ``more``; ``leaf``: the first was a leaf, accumulated at once (PyTorch pops it before the rest)
        node = more = None
        leaf = False
        for (child, nr), g in zip(edges, out):
            if child is None:
                continue
            # deps[child]: edges still to come into child; negated once its buffer exists
            left = deps.get(child)
            if left == 1:
                # a sole edge: child is ready, and needs no buffer
                if not child._special:   # one output, no hooks
                    if type(child) is AccumulateGrad and plain and node is None and not leaf:
                        if g is not None:
                            sole = _refcount(g) <= SOLE_REFS     # no one but this loop holds g
                            child.accumulate(g, sole)
                        leaf = True
                    elif node is None:
                        node, gin = child, g
                    else:
                        if more is None:
                            more = [(node, [gin] if grads is None else grads)]
                        more.append((child, [g]))
                    continue
                buf = [None] * child._n_out
                buf[nr] = g
            else:
                if left is None:
                    continue
                if left > 1:
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child._n_out
                    left = -left
                else:
                    buf = buffers[child]
                if g is not None:
                    if buf[nr] is not None and _parallel.LATER is not None and _parallel.touches(buf[nr], g):
                        _parallel.settle()      # the sum reads both
                    b = buf[nr]
                    buf[nr] = g if b is None else b + g if type(g) is type(b) is not BF16Array and \
                        (type(g) is not np.ndarray or g.dtype.isnative) else _mixed_sum(b, g)
                if left != -1:
                    deps[child] = left + 1
                    continue
                # the last of several edges: child is ready with the sum
                del buffers[child]
            if type(child) is AccumulateGrad and plain and not child._special and node is None and not leaf:
                if buf[0] is not None:
                    child.accumulate(buf[0])
                leaf = True
            elif node is None:
                node, grads, gin = child, buf, buf[0]
            else:
                if more is None:
                    more = [(node, [gin] if grads is None else grads)]
                more.append((child, buf))
        if more is not None:
            out = g = None  # the queued gradients held by their lists alone (a leaf's may then be taken whole)
            if heap or len(more) != 2 or type(more[0][0]) is AccumulateGrad or type(more[1][0]) is AccumulateGrad:
                _queue(heap, more, leaf)
                more = None
                node = None
            else:   # two plain nodes (a Linear's input and weight), none waiting: the newer runs, the older waits alone
                (node, grads), (older, gs) = more if more[0][0]._seq > more[1][0]._seq else more[::-1]
                gin = grads[0]
                heap.append((-older._seq, older, gs))
        elif node is not None and heap and -node._seq > heap[0][0]:   # an older node than one that waits
            _queue(heap, [(node, [gin] if grads is None else grads)], leaf)
            node = None


def _heappush(heap, item):
    """heapq.heappush, bound on first use (``import ember`` imports no module beyond NumPy's: tests/test_import.py)."""
    _bind_heapq()
    _heappush(heap, item)


def _heappop(heap):
    """heapq.heappop, bound on first use."""
    _bind_heapq()
    return _heappop(heap)


def _bind_heapq():
    """Replace the two stand-ins above by heapq's functions."""
    global _heappush, _heappop
    from heapq import heappop, heappush
    _heappush, _heappop = heappush, heappop


class _Leaf:
    """A ready leaf's payload in the heap. All leaves share one key, and two leaves compare equal, so that heapq
    breaks their ties as PyTorch's std::priority_queue does: the same sift steps (checked on 40000 random pushes
    and pops against libstdc++'s), so a node's third and later leaves run in PyTorch's order, not in edge order."""
    __slots__ = ('node', 'grads')

    def __init__(self, node, grads):
        self.node, self.grads = node, grads

    def __lt__(self, other):
        return False


_DONE = (-LEAF_SEQ, _Leaf(None, None))     # stands for a leaf accumulated at once, in the heap's steps (see _queue)


def _push(heap, node, grads):
    """Queue a ready node by its creation number, negated (heapq pops the least)."""
    if type(node) is AccumulateGrad:
        _heappush(heap, (-LEAF_SEQ, _Leaf(node, grads)))
    else:
        _heappush(heap, (-node._seq, node, grads))


def _queue(heap, nodes, leaf):
    """Queue the ready ``nodes`` (pairs of a node and its gradients) in order. ``leaf``: a leaf was made ready
    before them and accumulated at once; PyTorch pushed it first and popped it first, which leaves its heap in
    another shape than without it, and the shape decides later ties between leaves: it is pushed and popped here."""
    if leaf:
        _heappush(heap, _DONE)
    for n, gs in nodes:
        _push(heap, n, gs)
    if leaf:
        _heappop(heap)      # _DONE: a greatest element pushed first stays on top until popped


def _pop(heap):
    """The ready node that runs next, and its gradients."""
    e = _heappop(heap)
    if len(e) == 2:
        e = e[1]
        return e.node, e.grads
    return e[1], e[2]


def _chain(node, grads, release):
    """Run the chain that starts at root ``node`` (its output gradients ``grads``): while a plain node has one edge
    (its other edges None), its child has no other edge from any node left to run (a second one would come from
    below it: a cycle), so it runs next, with no walk of the graph or count of dependencies; a leaf at its end takes
    its gradient at once (without a copy when nothing else holds it). Returns the node it stopped at (None at the
    leaf) and its output gradients, for the general loop: a node with several edges, several outputs or hooks, or a
    missing gradient. Fwd+bwd per op, min of interleaved runs: 4-op chain 2.589 -> 2.315 us, 16-op 2.230 -> 2.058,
    256-op 2.045 -> 1.918."""
    g, at = grads[0], None     # at: the output of node its gradient g is for, once the chain has moved on
    if type(g) is BF16Array:
        g = adopt(g)
    while g is not None and not node._special:
        edges = node.next_functions
        n = len(edges)
        if n != 1 and (n != 2 or edges[1] is not _NO_EDGE and edges[1][0] is not None):   # (_NO_EDGE: one test)
            break
        child, nr = edges[0]
        if child is None:
            break
        # g alone holds a gradient passed through (see _LOCAL_REFS), with no ``out`` to clear: fwd+bwd per op, min of
        # 12 interleaved runs, 16-op chain 2047 -> 2034 ns, 256-op 1938 -> 1915
        g = node.backward(g)
        if type(g) is not _NDARRAY:     # one test for an array, the usual result; a bf16 one is rounded for the next
            if type(g) is tuple:
                g = g[0]
            if type(g) is BF16Array:
                g = adopt(g)
        if release and node._saved:
            node._saved = None
        if type(child) is AccumulateGrad and not child._special:
            if g is not None:
                sole = _refcount(g) <= _LOCAL_REFS     # its own line: an argument list being built holds g too
                child.accumulate(g, sole)
            return None, None
        node, at = child, nr
    if at is None:      # nothing ran
        return node, grads
    grads = [None] * node._n_out    # the stop's gradients: g at the output its edge named
    grads[at] = g
    return node, grads


def _local_refs():
    """What ``sys.getrefcount`` says of an array held by one local variable alone (as _chain holds a gradient)."""
    g = np.empty(0)
    return _refcount(g)


_LOCAL_REFS = _local_refs()


def _run_special(node, grads, create_graph, wanted):
    """One node with hooks, several outputs, or under autograd.grad: its input gradients, or None when
    nothing is passed on."""
    if _parallel.LATER is not None:     # hooks may read any .grad
        _parallel.settle()
    accumulate, mask = True, None
    if wanted is not None:
        targets, captured, inputs, accumulate, ends, masks = wanted
        if node in ends:   # captured, not run: the tensor's hooks fire, the node's pre-hooks do not
            if node._pre_hooks:
                grads = _run_prehooks(node, grads, tensor_only=True)
            _capture(node, grads, targets[node], captured, inputs, accumulate)
            return None
    if node._pre_hooks:
        grads = _run_prehooks(node, grads)
    if wanted is not None:
        if node in targets and _capture(node, grads, targets[node], captured, inputs, accumulate):
            return None
        mask = masks.get(node)
    if type(node) is AccumulateGrad:
        if accumulate and grads[0] is not None:
            node.accumulate(grads[0])
        return None
    if ANOMALY[0]:
        return _apply_checked(node, grads, create_graph, mask)
    return _apply(node, grads, create_graph, mask)


def _apply_checked(node, grads, create_graph, mask=None):
    """_apply under anomaly detection: an error (or, with check_nan, a NaN gradient) is reported with the
    node's forward traceback."""
    from . import anomaly_mode
    try:
        out = _apply(node, grads, create_graph, mask)
    except Exception:
        anomaly_mode.report(node)
        raise
    if ANOMALY[1]:
        for i, g in enumerate(out):
            a = g if g is None or isinstance(g, np.ndarray) else getattr(g, '_data', g)
            if a is not None and a.dtype.kind in 'fc' and np.isnan(a).any():
                anomaly_mode.report(node)
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    return out


def _apply(node, grads, create_graph, mask=None):
    """Run one node's backward: its input gradients as a tuple (None where nothing flows). ``mask``: which edges
    lead to a requested input (see _prune), None when all do."""
    if node._n_out == 1:
        if grads[0] is None:
            return (None,) * len(node.next_functions)
    else:
        if all(g is None for g in grads):
            return (None,) * len(node.next_functions)
        if getattr(node, '_materialize', True):   # a custom Function after set_materialize_grads(False) gets None
            grads = _fill_missing(node, grads, create_graph)
    for i, g in enumerate(grads):
        if type(g) is BF16Array:    # (see _drain)
            grads[i] = adopt(g)
    out = node.backward(*grads) if mask is None else _masked_backward(node, grads, mask)
    if type(out) is not tuple:
        out = (out,)
    if len(out) < len(node.next_functions):   # a binary op's lone first gradient (its second edge is None)
        out += (None,) * (len(node.next_functions) - len(out))
    if mask is not None and not isinstance(node, BackwardCFunction):
        out = tuple(g if keep else None for g, keep in zip(out, mask))
    if node._hooks:
        out = _run_hooks(node, out, grads, create_graph)
    return out


def _masked_backward(node, grads, mask):
    """node.backward for a pass that wants some of its edges' gradients alone: a node whose ``need`` switches its
    gradients (one per edge, or in the order ``_need_order`` gives) runs with the others switched off, as PyTorch's
    formulas skip an output when ``task_should_compute_output`` is false (a float64 PINN step's autograd.grad calls
    left the weights' products out: 58 -> 36 matrix products in the step's backward passes, PyTorch's 36). It runs
    on a per-call view of the node (see _run_view), so a pass running the node at the same time (another thread, or
    one started from a saved-tensor hook) keeps its own ``need``; the engine then drops what a node computed anyway
    (a built-in node's hooks see None there, as PyTorch's; a custom Function's see all it returned, as PyTorch's)."""
    order = node._need_order
    if order is None:
        return node.backward(*grads)
    masked = list(node.need)
    for e, keep in enumerate(mask):
        if not keep:
            masked[e if order is True else order[e]] = False
    return _run_view(node, tuple(masked), grads)


_SLOTS = {}     # node class -> its instances' slot names (all classes of its MRO) less need, __dict__, __weakref__
_UNSET = object()


def _slot_names(cls):
    names = _SLOTS.get(cls)
    if names is None:
        names = []
        for c in cls.__mro__:
            sl = c.__dict__.get('__slots__', ())
            for n in ((sl,) if isinstance(sl, str) else sl):
                if n not in ('need', '__dict__', '__weakref__') and n not in names:
                    names.append(n)
        names = _SLOTS[cls] = tuple(names)
    return names


def _run_view(node, need, grads):
    """The backward of a shallow copy of ``node`` whose ``need`` is its own: the same class and slots, and the very
    ``__dict__`` (saved tensors, metadata). A slot the backward changed (a convolution frees its columns when the
    graph is not retained) is set on the node after, as a plain run leaves it; ``need`` never is. About 2 us a
    node, on autograd.grad's masked nodes alone."""
    names = _slot_names(type(node))
    view = object.__new__(type(node))
    view.__dict__ = node.__dict__
    for n in names:
        v = getattr(node, n, _UNSET)
        if v is not _UNSET:
            setattr(view, n, v)
    view.need = need
    try:
        return view.backward(*grads)
    finally:
        for n in names:
            v = getattr(view, n, _UNSET)
            if v is not _UNSET and v is not getattr(node, n, _UNSET):
                setattr(node, n, v)


def _capture(node, grads, wanted, captured, inputs, accumulate):
    """Record the gradients of requested inputs; True when the node should not run (autograd.grad)."""
    for nr, i in wanted:
        captured[i] = grads[nr]
    if not accumulate:
        return type(node) is AccumulateGrad
    if type(node) is not AccumulateGrad:
        for nr, i in wanted:   # a non-leaf that retains its grad got it from its retain_grad hook already
            if grads[nr] is not None and not getattr(inputs[i], '_retains_grad', False):
                AccumulateGrad(inputs[i]).accumulate(grads[nr])
    return False


def _results(captured, inputs, allow_unused):
    result = []
    for i, g in enumerate(captured):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f'The differentiated Tensor at index {i} appears to not have been used in the '
                                   'graph. Set allow_unused=True if this is the desired behavior.')
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        elif isinstance(inputs[i], tuple) and type(inputs[i][0]) is not AccumulateGrad:
            result.append(Tensor._make(np.array(g, copy=True)))     # a GradientEdge's: the shape its node gave
        else:
            a = (inputs[i][0].variable if isinstance(inputs[i], tuple) else inputs[i])._data
            g = np.asarray(g)
            if g.dtype != a.dtype:
                g = g.astype(a.dtype)
            if g.shape != a.shape:
                g = np.broadcast_to(g, a.shape)
            result.append(Tensor._make(np.array(g, copy=True)))
    return tuple(result)


def _wrap(g):
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._make(g)


def _unwrap(g, create_graph):
    if g is None or create_graph:
        return g
    return g._data if isinstance(g, Tensor) else np.asarray(g)


def _hook_stage(entry):
    """PyTorch's order of a node's pre-hooks (its engine's call_tensor_pre_hooks, then call_pre_hooks): its
    output tensors' hooks, then their retain_grad hooks, then the node's own; registration order within each."""
    key, fn = entry
    return 2 if key == 'node' else 1 if getattr(fn, '_retains_grad', False) else 0


def _run_prehooks(node, grads, tensor_only=False):
    """The node's pre-hooks (its own, keyed 'node', and its output tensors', keyed by output number) in PyTorch's
    order; ``tensor_only`` runs the tensors' alone."""
    grads = list(grads)
    given = {}   # output number -> the gradient tensor its hooks get: one object, passed on as PyTorch passes it

    def tensor(i):
        if i not in given:
            given[i] = _wrap(grads[i])
        return given[i]
    for key, fn in sorted(node._pre_hooks, key=_hook_stage):
        if key == 'node':
            if tensor_only:
                continue
            r = as_user(fn, tuple(None if g is None else tensor(i) for i, g in enumerate(grads)))
            if r is not None:
                given = dict(enumerate(_wrap(x) for x in r))
                grads = [_unwrap(g, MODE.graph) for g in given.values()]
        elif grads[key] is not None:
            r = as_user(fn, tensor(key))
            if r is not None:
                _check_hook_result(fn, tensor(key), r)
                given[key] = _wrap(r)
                grads[key] = _unwrap(r, MODE.graph)
    return grads


def _check_hook_result(fn, grad, r):
    """PyTorch's checks of what a tensor hook returned for ``grad``: a tensor of its dtype and shape."""
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    name = getattr(fn, '__name__', None) or type(fn).__name__
    if r.dtype != grad.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.type()} got {r.type()})")
    if r._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")


def _run_hooks(node, out, grads, create_graph):
    for h in node._hooks:
        r = as_user(h, tuple(_wrap(g) for g in out), tuple(_wrap(g) for g in grads))
        if r is not None:
            out = tuple(_unwrap(x, create_graph) for x in r)
    return out


def _fill_missing(node, grads, create_graph):
    """Zeros for the outputs of a multi-output node that received no gradient."""
    out = []
    for g, (shape, dt) in zip(grads, node._out_meta):
        if g is None:
            g = np.zeros(shape, dt)
            if create_graph:
                g = Tensor._make(g)
        out.append(g)
    return out
