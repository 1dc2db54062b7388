"""Real public programs that stopped at a name (session 33), run on ember against PyTorch. PyTorch Geometric 2.8
(torch_geometric/index.py, edge_index.py, hash_tensor.py) binds ``aten = torch.ops.aten`` at import and keys its
tables of handlers by overloads (``@implements(aten.slice.Tensor)``), which it also calls; under ember
``torch.ops`` is ``ember.ops``, whose other names are operator namespaces (ember/_torch_ops.py)."""
import importlib
import importlib.util
import os
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


# -- torch.save(model) files written by PyTorch ------------------------------------------------------------------
NETDEF = '''
import torch
from torch import nn


class TiedLM(nn.Module):
    """A small language model as tutorials write one: tied embedding/output weights, a frozen parameter, a buffer
    that is not saved in the state_dict, a plain tensor attribute and Python attributes."""

    def __init__(self, vocab=11, dim=6):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.block = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.GELU())
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.emb.weight
        self.scale = nn.Parameter(torch.tensor(0.5, dtype=torch.float64), requires_grad=False)
        self.register_buffer('positions', torch.arange(4))
        self.register_buffer('mask', torch.ones(4, 4).tril(), persistent=False)
        self.table = torch.linspace(0, 1, 3)
        self.name, self.sizes = 'tiny', (vocab, dim)

    def forward(self, idx):
        h = self.block(self.emb(idx) + self.positions[:idx.shape[1], None].to(torch.float32))
        return self.head(h) * self.scale.float() + self.mask[:idx.shape[1], :idx.shape[1]].sum()
'''


@pytest.fixture
def netdef(tmp_path, monkeypatch):
    """A module of model classes on sys.path (imported afresh by each library)."""
    (tmp_path / 'netdef_o.py').write_text(NETDEF)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop('netdef_o', None)


def _load_in_ember(path):
    """``torch.load(path, weights_only=False)`` as an ``ember run`` program does: under the alias, so the model's
    module imports ember as torch."""
    sys.modules.pop('netdef_o', None)
    with aliasing.as_torch():
        return ember.load(path, weights_only=False)


def test_whole_model_of_torch_layers(tmp_path):
    """torch.save(model) of torch.nn's layers loads as an ember module: its repr, state_dict, train/eval flags,
    output and gradients are PyTorch's, and it trains on."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Linear(32, 3))
    model(torch.randn(4, 1, 6, 6))   # running statistics that differ from the defaults
    model[1].eval()
    torch.save(model, tmp_path / 'model.pt')
    ours = _load_in_ember(tmp_path / 'model.pt')
    theirs = torch.load(tmp_path / 'model.pt', weights_only=False)
    assert isinstance(ours, ember.nn.Sequential) and isinstance(ours[0], ember.nn.Conv2d)
    assert repr(ours) == repr(theirs) and [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    run_both(lambda T: [[k, v] for k, v in (ours if T is ember else theirs).state_dict().items()])
    x = torch.randn(2, 1, 6, 6)

    def step(T):
        m = ours if T is ember else theirs
        out = m(T.tensor(x.numpy()))
        out.square().sum().backward()
        opt = T.optim.SGD(m.parameters(), lr=0.1)
        opt.step()
        return [out, out.grad_fn.name()] + [p.grad for p in m.parameters()] + list(m.parameters())
    run_both(step, tol=1e-5)


def test_whole_user_model_with_tied_weights(netdef):
    """A user's model class (imported by each library from its file) with tied weights, a frozen float64
    parameter, int64 and non-persistent buffers and a plain tensor attribute: PyTorch's objects, shared where
    PyTorch's are, and the same outputs and gradients."""
    import netdef_o
    torch.manual_seed(0)
    torch.save({'model': netdef_o.TiedLM(), 'epoch': 3}, netdef / 'ckpt.pt')
    theirs = torch.load(netdef / 'ckpt.pt', weights_only=False)
    ours = _load_in_ember(netdef / 'ckpt.pt')
    em, tm = ours['model'], theirs['model']
    assert ours['epoch'] == 3 and type(em).__name__ == 'TiedLM' and isinstance(em, ember.nn.Module)
    assert em.head.weight is em.emb.weight and isinstance(em.emb.weight, ember.nn.Parameter)
    assert (em.name, em.sizes, repr(em)) == (tm.name, tm.sizes, repr(tm))
    assert list(em.state_dict()) == list(tm.state_dict()) and set(em._buffers) == set(tm._buffers)
    idx = [[1, 2, 3], [4, 5, 10]]

    def run(T):
        m = em if T is ember else tm
        out = m(T.tensor(idx))
        out.sum().backward()
        return [out, m.scale, m.scale.requires_grad, m.positions, m.mask, m.table, m.emb.weight.grad,
                m.block[0].weight.grad, m.block[1].bias.grad]
    run_both(run, tol=1e-5)


def test_whole_model_needs_weights_only_false(netdef, tmp_path):
    """The default ``weights_only=True`` refuses a whole model's class, as PyTorch does, and allowlisting the
    classes with safe_globals loads it."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3))
    torch.save(model, tmp_path / 'model.pt')
    with pytest.raises(torch.serialization.pickle.UnpicklingError) as theirs:
        torch.load(tmp_path / 'model.pt')
    with pytest.raises(ember.serialization.UnpicklingError) as ours:
        ember.load(tmp_path / 'model.pt')
    assert str(ours.value).split('\n')[-3:] == str(theirs.value).split('\n')[-3:]
    with ember.serialization.safe_globals([ember.nn.Sequential, ember.nn.Linear]):
        loaded = ember.load(tmp_path / 'model.pt')
    run_both(lambda T: (loaded if T is ember else model)(T.ones(1, 2)))


# -- torch.library --------------------------------------------------------------------------------------------
_SERIAL = iter(range(10 ** 6))


def _namespace():
    """A fresh operator namespace (each library's registrations last for the process), the same for both."""
    return f'ember_test_o{next(_SERIAL)}'


def _custom_op_tutorial(T, ns):
    """PyTorch's custom-op tutorial: a NumPy kernel as ``custom_op``, differentiated once ``register_autograd``
    gives its formula; a keyword-only argument reaches ``setup_context`` apart; ``torch.ops`` finds it."""
    L = importlib.import_module(f'{T.__name__}.library')

    @L.custom_op(f'{ns}::numpy_sin', mutates_args=())
    def numpy_sin(x: T.Tensor, k: float = 1.0, *, shift: float = 0.0) -> T.Tensor:
        return T.from_numpy(x.numpy() * k + shift).sin()

    x = T.tensor([0.5, -1.0, 2.0], dtype=T.float64, requires_grad=True)
    out = [repr(numpy_sin), repr(getattr(T.ops, ns).numpy_sin), numpy_sin(x.detach(), 2.0)]
    y = numpy_sin(x)
    try:
        y.sum().backward()
    except RuntimeError as exc:
        out.append(str(exc).replace(ns, 'NS'))

    def setup_context(ctx, inputs, output, keyword_only_inputs):
        ctx.save_for_backward(inputs[0])
        ctx.k, ctx.shift = inputs[1], keyword_only_inputs['shift']

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (x * ctx.k + ctx.shift).cos() * ctx.k, None

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    y = numpy_sin(x, 2.0, shift=0.5)
    y.sum().backward()
    out += [y, type(y.grad_fn).__name__.replace(ns, 'NS'), x.grad,
            getattr(T.ops, ns).numpy_sin.default(x.detach(), 3.0), getattr(T.ops, ns).numpy_sin.overloads()]
    if T is ember:
        assert ember.autograd.gradcheck(lambda a: numpy_sin(a, 1.5, shift=0.25), (x,))
    return out


def test_custom_op_tutorial():
    ns = _namespace()
    run_both(lambda T: _custom_op_tutorial(T, ns))


def _library_define_impl(T, ns):
    """``Library(ns, 'DEF')``'s define/impl and the module-level define/impl: kernels reached by torch.ops,
    PyTorch's errors for a second DEF library, a second definition and an operator without a kernel."""
    L = importlib.import_module(f'{T.__name__}.library')
    lib = L.Library(ns, 'DEF')
    out = [lib.define('mul3(Tensor x) -> Tensor'), lib.define('add.Tensor(Tensor x, Tensor y) -> Tensor'),
           lib.define('nokernel(Tensor x) -> Tensor')]
    lib.impl('mul3', lambda x: x * 3, 'CPU')
    lib.impl('add.Tensor', lambda x, y: x + y, 'CompositeExplicitAutograd')
    L.define(f'{ns}::twice', '(Tensor x) -> Tensor')
    L.impl(f'{ns}::twice', 'cpu', lambda x: x * 2)
    ops = getattr(T.ops, ns)
    out += [ops.mul3(T.ones(2)), ops.add.Tensor(T.ones(1), T.ones(1)), ops.twice(T.arange(3)), str(ops.mul3.default),
            ops.add.overloads(), repr(lib).replace(ns, 'NS')]
    for fails in (lambda: L.Library(ns, 'DEF'), lambda: lib.define('mul3(Tensor x) -> Tensor'),
                  lambda: L.Library(ns, 'XYZ'), lambda: ops.nokernel(T.ones(1))):
        try:
            fails()
        except (RuntimeError, ValueError, NotImplementedError) as exc:
            out.append([type(exc).__name__, str(exc).replace(ns, 'NS')[:90]])
    return out


def test_library_define_impl():
    ns = _namespace()
    run_both(lambda T: _library_define_impl(T, ns))


def test_custom_op_needs_annotations():
    run_both(lambda T: importlib.import_module(f'{T.__name__}.library').custom_op(
        f'{_namespace()}::bad', mutates_args=())(lambda x: x), message=True)


def test_overriding_aten_kernels_is_refused():
    """PyTorch lets a Library give aten operators new kernels; ember's aten operators are its functions."""
    with pytest.raises(NotImplementedError, match='not supported by ember yet'):
        ember.library.Library('aten', 'IMPL').impl('mul.Tensor', lambda x, y: x, 'CPU')


def test_private_names_of_torch_ops():
    """A private name of ember.ops is a submodule or an error (tools probe modules for such names), until
    torch.library defines operators in that namespace."""
    with pytest.raises(AttributeError):
        ember.ops._is_coroutine
    assert not hasattr(ember.ops, '__wrapped__')
    ember.library.custom_op('_ember_private_o::f', mutates_args=())(_identity_plus_one)
    assert ember.ops._ember_private_o.f(ember.ones(1)).item() == 2.0


def _identity_plus_one(x: ember.Tensor) -> ember.Tensor:
    return x + 1


# -- the private torch functions PyTorch Geometric calls -------------------------------------------------------
def _pyg_segment(T):
    """torch_geometric/utils/_segment.py's ``segment`` (a CSR pointer's reduction, 'min'/'max' as amin/amax with
    empty segments zeroed) and index.py's ``index2ptr``/edge_index.py's ptr-to-index conversion."""
    src = T.tensor([[1.0, -2.0], [3.0, 0.5], [2.0, 2.0], [-1.0, 4.0], [0.0, 1.0]], requires_grad=True)
    ptr = T.tensor([0, 2, 2, 5])
    outs = []
    for reduce in ('sum', 'mean', 'min', 'max'):
        name = f'a{reduce}' if reduce in ('min', 'max') else reduce
        out = T._segment_reduce(src, name, offsets=ptr, initial=0 if reduce == 'mean' else None)
        if reduce in ('min', 'max'):
            out = T.where(out.isinf(), 0, out)
        outs.append(out)
    grads = T.autograd.grad(sum((o * (k + 1)).sum() for k, o in enumerate(outs)), src)
    rows = T.tensor([0, 0, 1, 3, 3, 3])
    rowptr = T._convert_indices_from_coo_to_csr(rows, 5, out_int32=rows.dtype != T.int64)
    coo = T._convert_indices_from_csr_to_coo(rowptr.int(), T.tensor([1, 2, 0, 0, 1, 2]).int(), out_int32=True)
    return outs + [outs[0].grad_fn.name(), grads[0], rowptr, coo]


def test_pyg_segment_and_csr_pointers():
    run_both(_pyg_segment)


def test_whole_model_and_optimizer_resume(tmp_path):
    """A checkpoint of the whole model and its Adam optimizer (state after a step, parameters shared with the
    model's) resumes training in ember as in PyTorch."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    torch.save({'model': model, 'opt': opt}, tmp_path / 'resume.pt')
    ours = _load_in_ember(tmp_path / 'resume.pt')
    theirs = torch.load(tmp_path / 'resume.pt', weights_only=False)
    assert type(ours['opt']) is ember.optim.Adam and ours['opt'].param_groups[0]['params'][0] is ours['model'].weight

    def resume(T):
        m, o = (ours if T is ember else theirs)['model'], (ours if T is ember else theirs)['opt']
        o.zero_grad()
        m(T.tensor([[1.0, -2.0, 0.5]])).square().sum().backward()
        o.step()
        return [m.weight, m.bias, o.state_dict()['state'][0]['step'], o.state_dict()['state'][0]['exp_avg_sq']]
    run_both(resume)


def test_aten_table_is_pytorchs():
    """ember/data/aten_ops.txt lists the installed PyTorch's aten operators and overloads (tools/aten_ops.py)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location('aten_ops_tool', os.path.join(root, 'tools', 'aten_ops.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with open(tool.OUT) as f:
        assert f.read() == tool.table()
