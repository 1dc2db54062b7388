"""Real graph programs (session 36) run on ember against PyTorch: PyTorch Geometric 2.8 (torch-geometric) trained as
its examples do (GCN/GAT/GraphSAGE/GIN on a Planetoid-shaped graph, DataLoader batches, pooling, MessagePassing,
torch_geometric.utils, sparse adjacencies) and e3nn 0.6. Each test is the few lines where ember stopped or
differed, with the library file that made the call named; the libraries themselves are not needed here."""
import importlib
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import run_both, same_result


# -- sparse adjacency -------------------------------------------------------------------------------------------
def _csr(T):
    i = T.tensor([[0, 0, 2, 2, 2, 3], [1, 2, 0, 1, 1, 3]])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return T.sparse_coo_tensor(i, T.tensor([1., 2., 3., -1., 4., 0.5]), (4, 4)).coalesce().to_sparse_csr()


def _coalesced_flag(T):
    """torch_geometric/utils/sparse.py (to_edge_index, reached from GCNConv on a COO adjacency) marks the indices
    it sorted with ``adj._coalesced_(True)``; the flag is set in place and the tensor returned."""
    s = T.sparse_coo_tensor(T.tensor([[1, 0], [0, 1]]), T.tensor([1., 2.]), (2, 2))
    before = s.is_coalesced()
    r = s._coalesced_(True)
    return [before, r is s, s.is_coalesced(), s.indices(), s.values(), s._coalesced_(False).is_coalesced()]


def test_coalesced_flag():
    run_both(_coalesced_flag)


@pytest.mark.parametrize('reduce', ['sum', 'mean', 'amax', 'amin'])
def test_sparse_mm_reduce(reduce):
    """torch_geometric/utils/_spmm.py (SAGEConv's message_and_aggregate on a sparse adjacency, aggr='mean'/'max')
    calls ``torch.sparse.mm(csr, x, reduce)``: rows reduced, an empty row 0, the gradient to the first extreme
    entry (a tie in row 2), PyTorch's grad_fn name."""
    def f(T):
        x = T.tensor([[1., -2., 0.5], [3., 1., -1.], [1., 1., 1.], [0.25, 2., -3.]], requires_grad=True)
        y = T.sparse.mm(_csr(T), x, reduce)
        g, = T.autograd.grad((y * T.arange(12.).view(4, 3)).sum(), x)
        return [y, y.grad_fn.name(), g, T.sparse.mm(_csr(T), x).grad_fn.name()]
    run_both(f)


@pytest.mark.parametrize('case', [
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2), 'prod'),
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2), 'foo'),
    lambda T: T.sparse.mm(_csr(T).to_sparse_csc(), T.ones(4, 2), 'mean'),
    lambda T: T.sparse.mm(_csr(T), T.ones(4, 2, dtype=T.float64), 'mean')])
def test_sparse_mm_reduce_errors(case):
    run_both(case, message=True)


def test_sparse_mm_reduce_refuses_coo():
    """A COO operand with reduce=: PyTorch's NotImplementedError (its first sentence), then what to do."""
    first = "Could not run 'aten::_sparse_mm_reduce_impl' with arguments from the 'SparseCPU' backend."
    for T in (torch, ember):
        with pytest.raises(NotImplementedError) as err:
            T.sparse.mm(_csr(T).to_sparse(), T.ones(4, 2), 'mean')
        assert str(err.value).startswith(first)
    assert 'to_sparse_csr()' in str(err.value)


@pytest.mark.parametrize('reduce', ['sum', 'mean', 'amax', 'amin'])
def test_sparse_mm_reduce_gradient_by_finite_differences(reduce):
    """float64 finite differences through the dense operand (distinct products, so amax/amin are smooth)."""
    i = ember.tensor([[0, 0, 2, 2, 3], [1, 2, 0, 1, 3]])
    s = ember.sparse_coo_tensor(i, ember.tensor([1., 2., 3., -1., 0.5], dtype=ember.float64), (4, 4))
    csr = s.coalesce().to_sparse_csr()
    x = ember.tensor(np.arange(12.).reshape(4, 3) * 0.37 - 1.1, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: ember.sparse.mm(csr, x, reduce).sin(), (x,))


def test_wrapper_subclass_refused_by_name():
    """torch_geometric/edge_index.py (EdgeIndex.__new__) builds its tensor with Tensor._make_wrapper_subclass and
    runs its ops through __torch_dispatch__: ember refuses by name (NotImplementedError), not AttributeError."""
    class EdgeIndex(ember.Tensor):
        pass
    with pytest.raises(NotImplementedError, match=r'_make_wrapper_subclass .*EdgeIndex.*not supported by ember'):
        ember.Tensor._make_wrapper_subclass(EdgeIndex, size=(2, 3), dtype=ember.int64)


# -- e3nn's code generation through torch.fx ---------------------------------------------------------------------
def _fx_graph(T, build):
    """A graph built by hand as e3nn's codegen does: placeholders annotated torch.Tensor, Proxies sharing one
    GraphAppendingTracer; ``build(T, *proxies)`` gives the output."""
    g = T.fx.Graph()
    tracer = T.fx.proxy.GraphAppendingTracer(g)
    a = T.fx.Proxy(g.placeholder('a', T.Tensor), tracer)
    b = T.fx.Proxy(g.placeholder('b', T.Tensor), tracer)
    g.output(build(T, a, b).node)
    return g


def _graph_view(g):
    return [(n.op, n.name, getattr(n.target, '__name__', n.target), str(n.args), n.type is not None) for n in g.nodes]


def test_fx_tensor_annotation_in_generated_code():
    """e3nn/o3/_tensor_product/_codegen.py: placeholders typed ``torch.Tensor``; the generated code names the
    type ``torch.Tensor`` (ember wrote ``torch.tensor.Tensor``, and ``torch.tensor`` is a function there)."""
    def f(T):
        import torch.fx  # noqa: F401 (torch.fx is a submodule PyTorch imports lazily)
        g = _fx_graph(T, lambda T, a, b: a * b + 1)
        gm = T.fx.GraphModule(T.nn.Module(), g)
        return [gm.code, gm(T.tensor([1., 2.]), T.tensor([3., 4.]))]
    run_both(f)


def test_fx_graph_deepcopy():
    """opt_einsum_fx/_fuse.py (fuse_scalars) deep-copies the graph of the GraphModule e3nn generated (the graph
    refers to its module, whose copy refers back to the graph being copied): a new graph of new nodes, the same
    code, the output's annotation kept, the original untouched."""
    import copy

    def f(T):
        import torch.fx  # noqa: F401
        g = _fx_graph(T, lambda T, a, b: T.relu(a) - b * 2)
        g.output_node().type = T.Tensor
        h = copy.deepcopy(T.fx.GraphModule(T.nn.Module(), g).graph)
        gm = T.fx.GraphModule(T.nn.Module(), h)
        return [_graph_view(h), str(h) == str(g), all(n.graph is h for n in h.nodes),
                not set(map(id, h.nodes)) & set(map(id, g.nodes)), gm.code,
                gm(T.tensor([1., -2.]), T.tensor([3., 4.]))]
    run_both(f)


def test_fx_einsum_operand_list_recorded_spread():
    """opt_einsum/backends/torch.py calls ``torch.einsum(eq, operands)`` (a tuple); on Proxies the node gets the
    operands as separate arguments, as torch.functional.einsum spreads them before dispatch, so
    opt_einsum_fx/_efficient_shape_prop.py reads each operand's shape. Plain tensors take both forms."""
    def f(T):
        import torch.fx  # noqa: F401
        g = _fx_graph(T, lambda T, a, b: T.einsum('ij,jk->ik', (a, b)) + T.einsum('ij,jk->ik', [a, b]))
        gm = T.fx.GraphModule(T.nn.Module(), g)
        x, y = T.arange(6.).view(2, 3), T.arange(6.).view(3, 2)
        return [[len(n.args) for n in g.nodes if n.op == 'call_function'], gm(x, y), T.einsum('ij,jk->ik', [x, y])]
    run_both(f)


def test_fx_assert_on_proxy():
    """e3nn/nn/_extract.py calls ``torch._assert(x.shape[-1] == dim, msg)`` on a Proxy: recorded as a call of
    torch._assert (PyTorch dispatches its condition's __torch_function__), not a bool() of a Proxy."""
    def f(T):
        import torch.fx  # noqa: F401
        g = T.fx.Graph()
        tracer = T.fx.proxy.GraphAppendingTracer(g)
        x = T.fx.Proxy(g.placeholder('x', T.Tensor), tracer)
        T._assert(x.shape[-1] == 3, 'invalid input shape')
        g.output((x * 2).node)
        gm = T.fx.GraphModule(T.nn.Module(), g)
        out = gm(T.ones(2, 3))
        try:
            gm(T.ones(2, 4))
        except AssertionError as e:
            msg = str(e)
        return [_graph_view(g), gm.code, out, msg]
    run_both(f)


# -- to_hetero: PyG's own Tracer.trace over torch.fx._symbolic_trace's internals ---------------------------------
def _pyg_trace(T, st):
    """torch_geometric/nn/fx.py (symbolic_trace, behind to_hetero) re-implements Tracer.trace with the private
    names of torch.fx._symbolic_trace; reduced here to the lines that use them."""
    class Tracer(T.fx.Tracer):
        @st.compatibility(is_backward_compatible=True)
        def trace(self, root, concrete_args=None):
            self.root, fn = root, type(root).forward
            self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            self.graph = T.fx.Graph(tracer_cls=type(self))
            self.tensor_attrs = {}
            for k, v in root.__dict__.items():
                if isinstance(v, (T.Tensor, st.ScriptObject)):
                    self.tensor_attrs[v] = k
            assert isinstance(fn, st.FunctionType)
            fn_globals = fn.__globals__
            fn, args = self.create_args_for_root(fn, True, concrete_args)
            cache = {}

            @st.functools.wraps(st._orig_module_getattr)
            def module_getattr_wrapper(mod, attr):
                return self.getattr(attr, st._orig_module_getattr(mod, attr), cache)

            @st.functools.wraps(st._orig_module_call)
            def module_call_wrapper(mod, *args, **kwargs):
                def forward(*args, **kwargs):
                    return st._orig_module_call(mod, *args, **kwargs)
                st._autowrap_check(patcher, getattr(getattr(mod, 'forward', mod), '__globals__', {}),
                                   self._autowrap_function_ids)
                return self.call_module(mod, forward, args, kwargs)

            with st._Patcher() as patcher:
                patcher.patch_method(T.nn.Module, '__getattr__', module_getattr_wrapper, deduplicate=False)
                patcher.patch_method(T.nn.Module, '__call__', module_call_wrapper, deduplicate=False)
                st._patch_wrapped_functions(patcher)
                st._autowrap_check(patcher, fn_globals, self._autowrap_function_ids)
                self.create_node('output', 'output', (self.create_arg(fn(*args)),), {})
            self.submodule_paths = None
            return self.graph

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 2)
            self.scale = T.tensor([2., 3.])
            self.bias = T.nn.Parameter(T.tensor([0.5, -0.5]))

        def forward(self, x):
            return self.lin(x).relu() * self.scale + self.bias

    T.manual_seed(0)
    net = Net()
    gm = T.fx.GraphModule(net, Tracer().trace(net))
    return [gm.code, gm(T.arange(6.).view(2, 3)), T.nn.Module.__call__ is st._orig_module_call,
            isinstance(T.nn.Module.__dict__['__getattr__'], st.FunctionType)]


def test_pyg_tracer_over_symbolic_trace_internals():
    """``import torch.fx._symbolic_trace`` under the alias gives ember's module with the names PyG reads."""
    import torch.fx._symbolic_trace as torch_st
    theirs = _pyg_trace(torch, torch_st)
    with aliasing.as_torch():
        st = importlib.import_module('torch.fx._symbolic_trace')
    assert st is sys.modules['ember.fx._symbolic_trace']
    ours = _pyg_trace(ember, st)
    same_result(ours, theirs)


def test_removable_handle_follows_a_deep_copy():
    """torch_geometric/nn/dense/linear.py: a lazy Linear keeps ``self._hook`` (its initialising forward pre-hook)
    and removes it on first call; to_hetero deep-copies the module first, and the copy's handle must remove the
    copy's hook (ember's handle removed the original's, so the copy's ran again on the next call)."""
    import copy

    def f(T):
        calls = []

        class Lazy(T.nn.Module):
            def __init__(self):
                super().__init__()
                self._hook = self.register_forward_pre_hook(self.init_once)

            def init_once(self, module, args):
                calls.append(id(self))
                self._hook.remove()
                del self._hook

            def forward(self, x):
                return x + 1

        a = Lazy()
        b = copy.deepcopy(a)
        out = [b(T.ones(1)), b(T.ones(1)), len(calls), len(a._forward_pre_hooks), len(b._forward_pre_hooks)]
        a(T.ones(1))
        return out + [len(calls), len(a._forward_pre_hooks)]
    run_both(f)


# -- einsum of three or more operands -------------------------------------------------------------------------
def _real_to_complex(T, l):
    """e3nn/o3/_wigner.py's change_basis_real_to_complex: the unitary taking real spherical harmonics to complex."""
    q = T.zeros((2 * l + 1, 2 * l + 1), dtype=T.complex128)
    for m in range(-l, 0):
        q[l + m, l + abs(m)] = 1 / 2 ** 0.5
        q[l + m, l - abs(m)] = -1j / 2 ** 0.5
    q[l, l] = 1
    for m in range(1, l + 1):
        q[l + m, l + abs(m)] = (-1) ** m / 2 ** 0.5
        q[l + m, l - abs(m)] = 1j * (-1) ** m / 2 ** 0.5
    return (-1j) ** l * q


def test_einsum_of_four_operands_folds_left_to_right():
    """e3nn/o3/_wigner.py (_so3_clebsch_gordan, behind o3.wigner_3j) changes a Clebsch-Gordan tensor's basis with
    ``einsum('ij,kl,mn,ikn->jlm', Q1, Q2, Q3^H, C)``: PyTorch (no opt_einsum) folds the operands left to right, and
    its entries that should vanish are exactly 0; NumPy's optimized pairing left 1e-17 residues (-0.0000 printed)."""
    def f(T):
        q1, q2 = _real_to_complex(T, 1), _real_to_complex(T, 2)
        c = (T.arange(45.).view(3, 3, 5) % 7 == 0).to(T.complex128) * T.arange(1., 46.).view(3, 3, 5)
        r = T.real(T.einsum('ij,kl,mn,ikn->jlm', q1, q1, T.conj(q2.T), c))
        return [repr(r), r == 0, T.signbit(r)]
    run_both(f)


def test_einsum_chain_gives_pytorchs_float32_bits():
    """A float32 chain of three matrices: PyTorch's left-to-right pairs, so the same bits."""
    g = np.random.default_rng(0)
    arrays = [g.standard_normal(s).astype(np.float32) for s in ((4, 5), (5, 6), (6, 3))]
    ours = ember.einsum('ij,jk,kl->il', *map(ember.tensor, arrays)).numpy()
    theirs = torch.einsum('ij,jk,kl->il', *map(torch.tensor, arrays)).numpy()
    assert np.array_equal(ours, theirs)


# -- sparse @ sparse ------------------------------------------------------------------------------------------
def _coo(T, values=(1., 2., 3., 4., 0.5)):
    """A 3x3 COO matrix, uncoalesced (entry (1, 0) twice)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return T.sparse_coo_tensor(T.tensor([[0, 1, 1, 2, 1], [1, 0, 2, 2, 0]]), T.tensor(values), (3, 3))


@pytest.mark.parametrize('case', [
    lambda T: T.sparse.mm(_coo(T), _coo(T)),
    lambda T: _coo(T) @ _coo(T).t(),
    lambda T: T.mm(_coo(T, (1., -1., 0., 0., 1.)), _coo(T)),
    lambda T: _coo(T).to_sparse_csr() @ _coo(T).to_sparse_csr(),
    lambda T: _coo(T).to_sparse_csc() @ _coo(T).to_sparse_csc()])
def test_sparse_times_sparse(case):
    """torch_geometric/nn/models/graph_unet.py (augment_adj) squares a CSR adjacency with ``adj @ adj``: PyTorch's
    entries (structural zeros kept), layout, coalesced flag and values."""
    def f(T):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            r = case(T)
            return [str(r.layout), r.is_coalesced() if r.layout == T.sparse_coo else None, repr(r), r.to_dense()]
    run_both(f)


@pytest.mark.parametrize('case', [
    lambda T: _coo(T).to_sparse_csr() @ _coo(T),
    lambda T: _coo(T) @ _coo(T).to_sparse_csr(),
    lambda T: T.sparse.mm(_coo(T), _coo(T).double()),
    lambda T: T.sparse.mm(_coo(T), T.sparse_coo_tensor(T.tensor([[0], [0]]), T.tensor([1.]), (4, 3)))])
def test_sparse_times_sparse_errors(case):
    run_both(case, message=True)


def test_sparse_times_sparse_refuses_gradients():
    a = ember.sparse_coo_tensor(ember.tensor([[0, 1], [1, 0]]), ember.tensor([1., 2.], requires_grad=True), (2, 2))
    with pytest.raises(NotImplementedError, match='does not differentiate a product of two sparse tensors'):
        ember.sparse.mm(a, a)
    assert ember.sparse.mm(a.detach(), a.detach()).to_dense().tolist() == [[2., 0.], [0., 2.]]
