"""The rest of ``torch.autograd.graph``'s public names: gradient edges, increment_version, multi-tensor gradient
hooks, allow_mutation_on_saved_tensors and the compile/CUDA-stream settings (which have nothing to act on here)."""
import contextlib
import functools
import itertools
import threading
from collections import defaultdict
from typing import NamedTuple, Optional

from . import graph as _graph
from ._saved_hooks import saved_tensors_hooks
from .grad_mode import GRAD
from .graph import BUMPS, Node, _version_cell

MULTI = [0]                 # multi-grad hooks registered and not removed: while 0 backward keeps no task record
_TASK_IDS = itertools.count()


class GradientEdge(NamedTuple):
    """An edge of the graph: the node that computes a tensor's gradient and which of its outputs it is; usable
    wherever autograd.grad and backward take a tensor among their inputs (and outputs, given its gradient)."""
    node: Node
    output_nr: int
    ownership_token: Optional[Node] = None


def get_gradient_edge(tensor):
    """The edge of ``tensor``: its grad_fn and output number, or the AccumulateGrad node of a leaf."""
    if not tensor.requires_grad:
        raise RuntimeError('It is not possible to get the gradient edge for a Tensor that does not require '
                           'gradients')
    node, nr = _graph.edge(tensor)
    return GradientEdge(node, nr)


def increment_version(tensor):
    """Count an in-place change that ember did not see (data written through another route) on ``tensor`` or each
    tensor of an iterable: a node that saved it then refuses to run backward, as after any in-place op."""
    for t in (tensor,) if isinstance(tensor, _graph.Tensor) else tensor:
        _version_cell(t)[0] += 1
        BUMPS[0] += 1


class Task:
    """The backward pass running in this thread, as a multi-grad hook asks about it: an id, and which nodes it
    runs (found on first need from its roots, pruned to what leads to its inputs when it has some)."""
    __slots__ = ('id', 'roots', 'targets', '_runs')

    def __init__(self, roots, targets):
        self.id, self.roots, self.targets, self._runs = next(_TASK_IDS), roots, targets, None

    def will_execute(self, node):
        if self._runs is None:
            from .engine import _dependencies, _prune
            runs = _dependencies(self.roots)
            self._runs = runs if self.targets is None else _prune(runs, self.targets)
        return node in self._runs


def current_task():
    task = GRAD.__dict__.get('task')
    if task is None:
        raise AssertionError('expected this hook to be called inside a backward call')
    return task


class _MultiHandle:
    """The handle register_multi_grad_hook returns: ``remove()`` removes every tensor hook it made."""

    def __repr__(self):
        return f'<torch.autograd.graph._MultiHandle object at {hex(id(self))}>'   # where PyTorch defines it

    def __init__(self, handles):
        self.handles = handles
        MULTI[0] += 1

    def remove(self):
        if self.handles is not None:
            for h in self.handles:
                h.remove()
            self.handles = None
            MULTI[0] -= 1

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode='all'):
    """``mode='all'``: call ``fn(grads)`` once the gradients of all of ``tensors`` that this backward computes are
    there (None for the others); ``mode='any'``: call ``fn(grad)`` with the first of them a backward computes."""
    supported_modes = ('all', 'any')
    if mode not in supported_modes:
        raise ValueError(f'Expects mode to be one of {supported_modes} but got {mode}')
    lock = threading.Lock()
    if mode == 'all':
        count, buffer, calls = {}, {}, [None]
        nodes = [_graph.edge(t)[0] for t in tensors]
        n = len(tensors)

        def inner(idx):
            def hook(grad):
                task = current_task()
                buf = buffer.setdefault(task.id, [None] * n)
                with lock:
                    cur = count.get(task.id, 0)
                    count[task.id] = cur + 1
                    if cur == 0:
                        calls[0] = sum(map(task.will_execute, nodes))
                buf[idx] = grad
                if cur == calls[0] - 1:
                    fn(buf)
                    del count[task.id], buffer[task.id]
            return hook
        handles = tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors))
    else:
        ran = defaultdict(bool)

        @functools.wraps(fn)
        def wrapped(grad):
            task = current_task()
            with lock:
                prev, ran[task.id] = ran[task.id], True
            if not prev:
                fn(grad)
        handles = tuple(t.register_hook(wrapped) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


class _AllowMutationContext:
    """What allow_mutation_on_saved_tensors yields: the saved copies it made, cleared on exit."""

    def __init__(self):
        self.saved = []

    def clear(self):
        self.saved.clear()


_MUTATION = [False]


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Tensors saved for backward inside may be changed in place afterwards: backward sees them as they were
    saved. PyTorch clones a saved tensor when an in-place op is about to change it; ember copies each one as it
    is saved (the same values in backward, at the cost of the copies). Backward must run inside, as in PyTorch."""
    ctx = _AllowMutationContext()
    Tensor = _graph.Tensor

    def pack(t):
        copy = Tensor._make(t._data.copy())
        ctx.saved.append(copy)
        return copy

    def unpack(copy):
        if not _MUTATION[0]:
            raise AssertionError("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                                 'in which the graph was originally recorded.')
        return copy
    with saved_tensors_hooks(pack, unpack):
        try:
            if _MUTATION[0]:
                raise RuntimeError('allow_mutation_on_saved_tensors contexts cannot be nested')
            _MUTATION[0] = True
            yield ctx
        finally:
            ctx.clear()
            _MUTATION[0] = False


def region_activation_memory_budget(budget):
    """PyTorch's activation-memory budget for a torch.compile region: it has no effect outside one, and refuses
    eager use as PyTorch does (ember's compile runs the eager code)."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f'torch.autograd.graph.region_activation_memory_budget: expects a float, got '
                        f'{type(budget).__name__}')
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f'torch.autograd.graph.region_activation_memory_budget: must be in [0, 1], got {budget}')
    raise RuntimeError('torch.autograd.graph.region_activation_memory_budget can only be used inside a '
                       'torch.compile region; it has no effect in eager mode.')


def set_warn_on_accumulate_grad_stream_mismatch(enabled):
    """PyTorch's warning for a CUDA stream mismatch at gradient accumulation: ember has no streams."""


def set_override_stale_capture_stream(enabled):
    """PyTorch's CUDA-graph capture setting for stale streams: ember has no CUDA graphs."""
