"""Real public programs that stopped at a name (session 33), run on ember against PyTorch. PyTorch Geometric 2.8
(torch_geometric/index.py, edge_index.py, hash_tensor.py) binds ``aten = torch.ops.aten`` at import and keys its
tables of handlers by overloads (``@implements(aten.slice.Tensor)``), which it also calls; under ember
``torch.ops`` is ``ember.ops``, whose other names are operator namespaces (ember/_torch_ops.py)."""
import importlib
import sys

import pytest
import torch

import ember
from ember import aliasing
from helpers import run_both


# -- torch.ops.aten ----------------------------------------------------------------------------------------------
def _pyg_handlers(T):
    """torch_geometric/index.py's pattern: a table of handlers keyed by aten overloads, each calling the overload
    on the plain tensor; run here on one tensor per handler."""
    aten = T.ops.aten
    handled = {}

    def implements(op):
        def register(fn):
            handled[op] = fn
            return fn
        return register

    implements(aten.clone.default)(lambda t: aten.clone.default(t))
    implements(aten._to_copy.default)(lambda t: aten._to_copy.default(t, dtype=T.float64))
    implements(aten.alias.default)(lambda t: aten.alias.default(t))
    implements(aten.sort.stable)(lambda t: aten.sort.stable(t, stable=True, dim=0, descending=True))
    implements(aten.cat.default)(lambda t: aten.cat.default([t, t], dim=0))
    implements(aten.flip.default)(lambda t: aten.flip.default(t, [0]))
    implements(aten.index_select.default)(lambda t: aten.index_select.default(t, 0, T.tensor([2, 0])))
    implements(aten.slice.Tensor)(lambda t: aten.slice.Tensor(t, 0, 1, 5, 2))
    implements(aten.index.Tensor)(lambda t: aten.index.Tensor(t, [T.tensor([3, 1])]))
    implements(aten.add.Tensor)(lambda t: aten.add.Tensor(t, t, alpha=2))
    implements(aten.sub.Tensor)(lambda t: aten.sub.Tensor(t, 1))
    implements(aten.unsqueeze.default)(lambda t: aten.unsqueeze.default(t, 1))
    implements(aten.select.int)(lambda t: aten.select.int(t, 0, 2))
    t = T.tensor([4, 1, 3, 1, 2])
    return [len(handled), aten.slice.Tensor in handled, aten.slice.Tensor is aten.slice.Tensor] + [
        handled[op](t) for op in handled]


def test_pyg_aten_handler_table():
    run_both(_pyg_handlers)


def _aten_objects(T):
    """What PyTorch code reads off the operator objects: names, reprs, overload lists, ``hasattr``."""
    aten = T.ops.aten
    mm, add = aten.mm, aten.add.Tensor
    return [repr(mm), str(mm), mm.__name__, mm._qualified_op_name, sorted(mm.overloads()), repr(mm.default),
            str(mm.default), mm.default.__name__, mm.default.name(), add.name(), add._overloadname,
            mm.default.namespace, mm.default.overloadpacket is mm, repr(aten), repr(T.ops.pyg),
            hasattr(aten, 'index_put_'), hasattr(aten, 'no_such_op'), hasattr(mm, 'Scalar'), T.ops.loaded_libraries,
            T.ops.aten is T.ops.aten]


def test_aten_objects():
    run_both(_aten_objects)


def _aten_calls(T):
    """Overloads and packets called: values, dtypes, the autograd graph's names and gradients."""
    aten = T.ops.aten
    a = T.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    b = T.tensor([[0.5, -2.0], [1.5, 4.0]], requires_grad=True)
    y = aten.mm.default(a, b)
    s = aten.sum.dim_IntList(aten.relu.default(y), [0])
    s.backward(T.tensor([1.0, 2.0]))
    x = T.ones(3)
    aten.add_.Tensor(x, T.arange(3.0), alpha=2)
    values, indices = aten.max.dim(b, 1)
    return [y, y.grad_fn.name(), s.grad_fn.name(), a.grad, b.grad, x, aten.mm(a, b), aten.sum(a),
            type(aten.max.dim(b, 1)).__name__, values, indices, aten.view.default(T.arange(6), [2, 3]),
            aten.mean.dim(b, [1], True)]


def test_aten_calls():
    run_both(_aten_calls)


def test_aten_gradient_by_finite_differences():
    """torch.ops.aten.mm.default differentiates as ember's mm: float64 finite differences."""
    a = ember.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([[0.5, -2.0], [1.5, 4.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: ember.ops.aten.mm.default(x, y).sin(), (a, b))


@pytest.mark.parametrize('case', [
    lambda T: T.ops.aten.no_such_op, lambda T: T.ops.aten.mm.no_such_overload,
    lambda T: T.ops.aten.mm.default(T.ones(2, 3), T.ones(2, 3))])
def test_aten_errors(case):
    run_both(case, message=True)


def test_foreign_namespaces_and_libraries():
    """An operator of a C++ library PyTorch would have loaded: PyTorch's AttributeError, saying why in ember;
    load_library refuses with the OSError PyTorch raises for a library it cannot load."""
    with pytest.raises(AttributeError) as theirs:
        torch.ops.pyg.knn
    with pytest.raises(AttributeError) as ours:
        ember.ops.pyg.knn
    assert str(ours.value).startswith(str(theirs.value)) and 'load_library' in str(ours.value)
    with pytest.raises(OSError, match='Could not load this library: /no/lib.so') as refused:
        ember.ops.load_library('/no/lib.so')
    assert 'torch.ops.load_library is not supported by ember yet' in str(refused.value)
    with pytest.raises(OSError, match='Could not load this library: /no/lib.so'):
        torch.ops.load_library('/no/lib.so')


def test_torch_ops_under_the_alias():
    """``import torch.ops`` and ``from torch.ops import aten`` give ember.ops and its namespace, ember's own
    submodules of ember.ops stay internal, and ember's internal imports still find its submodules."""
    with aliasing.as_torch():
        import torch as T
        ops = importlib.import_module('torch.ops')
        from torch.ops import aten
        assert ops is ember.ops and T.ops is ember.ops and aten is ember.ops.aten
        assert T.ops.aten.mm.default(T.ones(1, 2), T.ones(2, 1)).item() == 2.0
        with pytest.raises(ModuleNotFoundError, match='torch.ops.pointwise is not supported by ember yet'):
            importlib.import_module('torch.ops.pointwise')
    from ember.ops import _reparam, quantiles
    assert _reparam is sys.modules['ember.ops._reparam'] and quantiles is sys.modules['ember.ops.quantiles']
    assert 'aten' not in ember.__dict__ and 'load_library' not in ember.__dict__
