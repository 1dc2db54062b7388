"""Normalizing-flow and simulation-based-inference libraries run under the alias against PyTorch (session 37):
zuko 1.6, nflows 0.14, normflows 1.7.3 and sbi 0.27 (NPE/NLE/NRE, MCMC, rejection, importance and VI posteriors),
each reduced to the lines that found a defect in ember."""
import copy

import torch

import ember
from helpers import run_both


# -- sbi: VIPosterior.train deep-copies q after sbi/utils/torchutils.py's _base_recursor detached its non-leaf
# tensors, walking every object's ``__dict__`` and rebuilding each list it meets as ``type(obj)(items)`` ---------
def _is_nonleaf(o):
    return isinstance(o, (torch.Tensor, ember.Tensor)) and o.requires_grad and not o.is_leaf


def _detach_walk(obj, parent=None, key=None, seen=None):
    """sbi/utils/torchutils.py's _base_recursor with sbi/samplers/vi/vi_utils.py's detach action, reduced."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type):
        return
    seen.add(id(obj))
    if hasattr(obj, '__dict__'):
        for k, o in list(obj.__dict__.items()):
            if _is_nonleaf(o):
                setattr(obj, k, o.detach())
            else:
                _detach_walk(o, obj, k, seen)
    elif isinstance(obj, (list, tuple)):
        items = [o.detach() if _is_nonleaf(o) else o for o in obj]
        for o in obj:
            _detach_walk(o, seen=seen)
        if parent is not None:
            setattr(parent, key, type(obj)(items))
    seen.discard(id(obj))


class _Holder:
    """Stands for the variational distribution sbi walks."""


def test_attribute_walk_then_deepcopy_keeps_views():
    def run(T):
        w = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = _Holder()
        h.w, h.head, h.y = w, w[:2], (w * 2)[1:]
        h.buf = T.arange(4.0)
        h.part = h.buf[1:3]
        _detach_walk(h)
        c = copy.deepcopy(h)
        h.buf.add_(1)
        ((h.w * h.w).sum() + h.part.sum()).backward()
        return w.grad, h.part, c.head, c.y, c.part, h.head.requires_grad, c.w.requires_grad
    run_both(run)
