"""The backward pass: one topological walk from the outputs, counting dependencies, so each node runs
once, after every gradient flowing into it has been summed."""
import numpy as np

from .graph import MODE, AccumulateGrad, _edge
from .grad_mode import GRAD


def _shape_str(shape):
    return 'torch.Size([' + ', '.join(map(str, shape)) + '])'


def _root_grads(tensors, grads, create_graph):
    """Check outputs and their seed gradients; returns (edges, seeds) in the mode of the pass."""
    from ..tensor import Tensor
    edges, seeds = [], []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f'backward: expected a Tensor as output {i}, got {type(t).__name__}')
        if not t.requires_grad:
            raise RuntimeError(f'element {i} of tensors does not require grad and does not have a grad_fn')
        if g is None:
            if t._data.size != 1:
                raise RuntimeError('grad can be implicitly created only for scalar outputs')
            g = np.ones_like(t._data)
        elif isinstance(g, Tensor):
            if g.shape != t.shape:
                raise RuntimeError(f'Mismatch in shape: grad_output[{i}] has a shape of {_shape_str(g.shape)} '
                                   f'and output[{i}] has a shape of {_shape_str(t.shape)}.')
            g = g if create_graph else g._data
        else:
            g = np.asarray(g, dtype=t._data.dtype)
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._make(g)
        edges.append(_edge(t))
        seeds.append(g)
    return edges, seeds


def _collect(root_nodes, targets):
    """Dependency counts of the nodes that lead to a target (all nodes when targets is None)."""
    needed = {}
    order = []
    stack = [(n, False) for n in root_nodes]
    while stack:
        node, done = stack.pop()
        if done:
            keep = targets is None or node in targets or any(
                needed.get(c) for c, _ in node.next_functions if c is not None)
            needed[node] = keep
            order.append(node)
            continue
        if node in needed:
            continue
        needed[node] = False
        stack.append((node, True))
        for child, _ in node.next_functions:
            if child is not None and child not in needed:
                stack.append((child, False))
    deps = {}
    for node in order:
        if needed[node]:
            deps.setdefault(node, 0)
            for child, _ in node.next_functions:
                if child is not None and needed.get(child):
                    deps[child] = deps.get(child, 0) + 1
    return deps


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=True):
    """Run the backward pass. With ``inputs``, returns their gradients; with ``accumulate`` the
    leaves' ``.grad`` (or only those of ``inputs``) receive them."""
    from ..tensor import Tensor
    if retain_graph is None:
        retain_graph = create_graph
    edges, seeds = _root_grads(tensors, grad_tensors, create_graph)

    targets = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            node, nr = _edge(t)
            if node is None:
                raise RuntimeError(f'One of the differentiated Tensors (input {i}) does not require grad')
            targets.setdefault(node, []).append((nr, i))
    captured = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    for (node, nr), g in zip(edges, seeds):
        if node is None:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    deps = _collect(list(buffers), targets)
    ready = [n for n in buffers if deps.get(n, 0) == 0 and n in deps]

    prev_mode, prev_grad = MODE.graph, GRAD.enabled
    MODE.graph, GRAD.enabled = create_graph, create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node._pre_hooks:
                grads = _run_prehooks(node, grads)
            if targets is not None and node in targets:
                for nr, i in targets[node]:
                    captured[i] = grads[nr]
                if not accumulate:
                    if type(node) is AccumulateGrad:
                        continue
                elif type(node) is not AccumulateGrad:
                    for nr, i in targets[node]:
                        if grads[nr] is not None:
                            AccumulateGrad(inputs[i]).accumulate(grads[nr])
            if type(node) is AccumulateGrad:
                if accumulate and grads[0] is not None:
                    node.accumulate(grads[0])
                continue
            if node._out_meta is not None:
                grads = _fill_missing(node, grads, create_graph)
            out = node.backward(*grads)
            if type(out) is not tuple:
                out = (out,)
            if node._hooks:
                for h in node._hooks:
                    r = h(_wrap_all(out), _wrap_all(grads))
                    if r is not None:
                        out = tuple(_unwrap(x, create_graph) for x in r)
            if not retain_graph:
                node.release()
            for (child, nr), g in zip(node.next_functions, out):
                if child is None or child not in deps:
                    continue
                if g is not None:
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child._n_outputs
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    if child not in buffers:
                        buffers[child] = [None] * child._n_outputs
                    ready.append(child)
    finally:
        MODE.graph, GRAD.enabled = prev_mode, prev_grad

    if inputs is None:
        return None
    result = []
    for i, g in enumerate(captured):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f'One of the differentiated Tensors (input {i}) appears to not have been '
                                   'used in the graph. Set allow_unused=True if this is the desired behavior.')
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            t = inputs[i]
            if g.dtype != t._data.dtype:
                g = g.astype(t._data.dtype)
            if g.shape != t._data.shape:
                g = np.broadcast_to(g, t._data.shape)
            result.append(Tensor._make(np.array(g, copy=True)))
    return tuple(result)


def _wrap(g):
    from ..tensor import Tensor
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._make(g)


def _wrap_all(gs):
    return tuple(_wrap(g) for g in gs)


def _unwrap(g, create_graph):
    if g is None or create_graph:
        return g
    return g._data


def _run_prehooks(node, grads):
    grads = list(grads)
    for key, fn in list(node._pre_hooks):
        if key == 'node':
            r = fn(_wrap_all(grads))
            if r is not None:
                grads = [_unwrap(_wrap(x), MODE.graph) for x in r]
        elif grads[key] is not None:
            r = fn(_wrap(grads[key]))
            if r is not None:
                grads[key] = _unwrap(r, MODE.graph)
    return grads


def _fill_missing(node, grads, create_graph):
    """Zeros for the outputs of a multi-output node that received no gradient."""
    from ..tensor import Tensor
    out = []
    for g, (shape, dt) in zip(grads, node._out_meta):
        if g is None:
            g = np.zeros(shape, dt)
            if create_graph:
                g = Tensor._make(g)
        out.append(g)
    return out
