"""PyTorch's refusal of forward-mode AD for the ops it has no forward formula for.

ember computes every tangent by the double-backward trick (``forward_ad``, ``func.jvp``/``jacfwd``/``hessian``/
``linearize``), so it could push a tangent through any op with a backward. PyTorch cannot: an op without a
forward-mode formula raises ``NotImplementedError('Trying to use forward AD with NAME that does not support
it...')`` as soon as an argument carries a tangent. The forward-mode transforms register the tensors they seed
in ``SOURCES`` while they run; such an op calls ``refuse(NAME, *its tensor arguments)`` behind an
``if SOURCES:`` test (a list lookup when no transform runs), and raises PyTorch's error when an argument is
computed from a seed."""
import contextlib
import re

SOURCES = []   # one list of seed tensors per running forward-mode transform (forward_ad's level, jvp, jacfwd)

_LONG = ('Trying to use forward AD with {} that does not support it because it has not been implemented yet.\n'
         'Please file an issue to PyTorch at https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml'
         ' so that we can prioritize its implementation')


@contextlib.contextmanager
def seeding(tensors):
    """Register ``tensors`` as the seeds of a forward-mode transform while the block runs."""
    entry = list(tensors)
    SOURCES.append(entry)
    try:
        yield
    finally:
        forget(entry)


def forget(entry):
    """Remove the registered list ``entry`` (by identity: lists of tensors do not compare with ==)."""
    for i in range(len(SOURCES) - 1, -1, -1):
        if SOURCES[i] is entry:
            del SOURCES[i]
            return


def _seed_ids():
    """The ids of the running transforms' seeds and of their grad_fn nodes (what a tangent's graph reaches)."""
    ids = set()
    for seeds in SOURCES:
        for s in seeds:
            ids.add(id(s))
            if s.grad_fn is not None:
                ids.add(id(s.grad_fn))
    return ids


def carries_tangent(t, ids=None):
    """True when ``t`` is a seed of a running forward-mode transform or computed from one (its graph reaches
    a seed: a leaf seed through its AccumulateGrad node, a view seed through its grad_fn). ``ids``: _seed_ids(),
    when the caller asks about several tensors."""
    if not getattr(t, 'requires_grad', False):
        return False
    if ids is None:
        ids = _seed_ids()
    if id(t) in ids:
        return True
    todo, seen = [t.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in ids or id(getattr(node, 'variable', None)) in ids:
            return True
        todo.extend(n for n, _ in node.next_functions)
    return False


def message(name, kind='formula'):
    """PyTorch's text: ``kind`` 'formula' (an op of derivatives.yaml without one), 'inplace' (an in-place op
    without one) or 'plain' (an op PyTorch has no derivative for at all: ``aten::NAME``)."""
    if kind == 'plain':
        return f'Trying to use forward AD with aten::{name} that does not support it.'
    if kind == 'inplace':
        return _LONG.format(name) + '.'
    return _LONG.format(name) + ' or submit a PR adding the implementation to derivatives.yaml'


def refuse(name, *tensors, kind='formula'):
    """Raise PyTorch's NotImplementedError when one of ``tensors`` carries a forward-mode tangent."""
    ids = _seed_ids()
    if any(carries_tangent(t, ids) for t in tensors if t is not None):
        raise NotImplementedError(message(name, kind))


def refusing(cls, name, kind='formula'):
    """``cls`` (a node class built as ``cls(inputs)``) made to refuse forward mode: creating one over an input that
    carries a tangent raises PyTorch's error for ``name`` (after the op computed, before it returns, as there)."""
    init = cls.__init__

    def __init__(self, inputs):
        if SOURCES:
            refuse(name, *inputs, kind=kind)
        init(self, inputs)
    cls.__init__ = __init__
    return cls


PLAIN = re.compile(r'derivative for aten::(\S+) is not implemented')   # ember's backward error of such an op


@contextlib.contextmanager
def converting():
    """Around a forward-mode computation: the backward error of an op PyTorch has no derivative for at all
    ('derivative for aten::NAME is not implemented', met by ember's double-backward trick) becomes the
    NotImplementedError PyTorch's forward mode raises for it."""
    try:
        yield
    except RuntimeError as e:
        m = PLAIN.fullmatch(str(e))
        if m is None:
            raise
        raise NotImplementedError(message(m[1], 'plain')) from None
