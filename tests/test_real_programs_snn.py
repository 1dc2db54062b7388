"""Spiking-neural-network libraries run under the alias against PyTorch (session 38): snntorch 1.0 (its tutorials
1-7: spikegen, Leaky/Synaptic/Alpha, surrogate gradients, BPTT, snntorch.functional) and norse 1.1, each reduced to
the lines that found a defect in ember."""
import importlib
import math
import re
import typing
import warnings

import ember
from helpers import check, run_both


def _pytree(lib):
    return importlib.import_module(f'{lib.__name__}.utils._pytree')


# -- snntorch: functional/loss.py does ``from torch._C import Value`` at import -------------------------------------
def test_torch_c_value_imports_and_refuses_construction():
    run_both(lambda lib: [lib._C.Value is lib.Value, lib.Value.__name__])
    run_both(lambda lib: lib._C.Value(), message=True)


# -- norse: torch/utils/pytree.py registers its state NamedTuples with _namedtuple_flatten/_namedtuple_unflatten ---
def test_namedtuple_flatten_pair_registers_a_state_tuple():
    def run(lib):
        p = _pytree(lib)
        State = typing.NamedTuple('State', [('v', lib.Tensor), ('i', lib.Tensor)])
        cls = type('LIFState' + lib.__name__, (State,), {})
        p.register_pytree_node(cls, p._namedtuple_flatten, p._namedtuple_unflatten)
        s = cls(lib.tensor([1.0, 2.0]), lib.tensor(3.0))
        leaves, spec = p.tree_flatten(s)
        back = p.tree_unflatten([x * 2 for x in leaves], spec)
        mapped = p.tree_map(lambda x: x + 1, s)
        return [leaves, p._namedtuple_flatten(s)[1] is cls, type(back).__name__.startswith('State'),
                list(back), list(mapped), p._namedtuple_unflatten([1, 2], cls) == cls(1, 2)]
    run_both(run)


# -- norse: torch/module/conv.py does ``from torch.nn.common_types import _size_2_t`` --------------------------------
def test_nn_common_types_size_aliases():
    def run(lib):
        c = importlib.import_module(f'{lib.__name__}.nn.common_types')
        return [str(c._size_2_t), str(c._size_any_t), str(c._size_3_opt_t), str(c._ratio_2_t),
                typing.get_args(c._size_1_t), typing.get_args(c._tensor_list_t)[0] is lib.Tensor]
    run_both(run)


# -- norse: functional/filter.py scripts ``parameter * old_value + new_value`` with ``parameter: float``, and its
# test_exp_filter.py passes the int 1 (TorchScript converts it, so a long tensor times it is float) ----------------
def _exp_filter_step(old_value, new_value, parameter: float):
    return parameter * old_value + new_value


def _scaled_shift(x, scale: float, shift: int):
    return scale * x + shift


def test_jit_script_converts_scalars_to_the_annotated_type():
    run_both(lambda lib: lib.jit.script(_exp_filter_step)(lib.tensor([1]), lib.tensor([0]), 1))
    run_both(lambda lib: lib.jit.script(_exp_filter_step)(lib.tensor([1]), lib.tensor([0]), parameter=True))
    run_both(lambda lib: lib.jit.script(_scaled_shift)(lib.tensor([2]), lib.tensor(3.0), True))
    run_both(lambda lib: lib.jit.script(_scaled_shift)(lib.tensor([2]), 2, shift=lib.tensor(4)))
    run_both(lambda lib: lib.jit.script(_scaled_shift)(lib.tensor([2]), 1, 2.0), message=True)


# -- norse: functional/lif.py's lif_step runs F.linear(state.z, recurrent_weights) with a 1-D weight (one neuron:
# test_lif.py's test_lif_cpp_back), which PyTorch computes as matmul(input, weight) ---------------------------------
def test_linear_with_a_vector_weight():
    def run(lib, x_shape, bias):
        F = lib.nn.functional
        x = lib.arange(float(math.prod(x_shape))).reshape(x_shape).requires_grad_()
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = None if bias is None else lib.tensor(bias, requires_grad=True)
        y = F.linear(x, w, b)
        y.sum().backward()
        return [y, type(y.grad_fn).__name__, x.grad, w.grad] + ([] if b is None else [b.grad])
    for x_shape, bias in [((3,), None), ((2, 3), None), ((4, 2, 3), None), ((3,), 1.5), ((4, 2, 3), 1.5),
                          ((4, 2, 3), [1.0, 2.0]), ((3,), [1.0, 2.0]), ((2, 3), 1.5), ((2, 4), None)]:
        run_both(lambda lib: run(lib, x_shape, bias))
    run_both(lambda lib: lib.nn.functional.linear(lib.ones(2, 4, 3).transpose(0, 1), lib.ones(3), lib.ones(2)))
    run_both(lambda lib: lib.nn.functional.linear(lib.tensor(2.0), lib.ones(3)), message=True)
    run_both(lambda lib: lib.nn.functional.linear(lib.ones(3), lib.tensor(2.0)), message=True)
    check(lambda lib, x, w: lib.nn.functional.linear(x, w), (4, 3), (3,))


# -- norse: module/test/test_lif.py's test_lif_datatype: a cell hands back z.to_sparse() of spikes that need grad,
# LIF stacks them over time, and LIFRecurrent's input is a sparse tensor unsqueezed ---------------------------------
def _dense_of(lib, s):
    return (s.to_dense() * lib.arange(float(s.numel())).reshape(s.shape)).sum()


def test_to_sparse_stack_and_unsqueeze_differentiate():
    def run(lib, sparse_dim, dim):
        x = lib.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], requires_grad=True)
        y = lib.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
        sx = x.to_sparse() if sparse_dim is None else x.to_sparse(sparse_dim)
        sy = y.to_sparse() if sparse_dim is None else y.to_sparse(sparse_dim)
        s = lib.stack([sx, sy], dim)
        _dense_of(lib, s).backward()
        return [type(sx.grad_fn).__name__, type(s.grad_fn).__name__, s.is_sparse, s.to_dense(), x.grad, y.grad]
    for sparse_dim, dim in [(None, 0), (None, 1), (None, 2), (1, 0), (1, 1)]:
        run_both(lambda lib: run(lib, sparse_dim, dim))

    def unsqueezed(lib, sparse_dim, dim, fn):
        s = lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(sparse_dim)
        u = fn(lib, s, dim)
        return [u.is_sparse, u.shape, u.sparse_dim(), u.dense_dim(), u._indices(), u._values(), u.is_coalesced(),
                u.to_dense()]
    for sparse_dim in (1, 2):
        for dim in (0, 1, 2, -1, -3):
            run_both(lambda lib: unsqueezed(lib, sparse_dim, dim, lambda L, s, d: s.unsqueeze(d)))
            run_both(lambda lib: unsqueezed(lib, sparse_dim, dim, lambda L, s, d: L.unsqueeze(s, d)))
    run_both(lambda lib: lib.ones(2, 2).to_sparse().unsqueeze(3))


def test_to_sparse_gradient_by_finite_differences():
    # no zero entries: a nudge to a zero would add an entry, and the gradient is masked to the entries (PyTorch's)
    x = ember.tensor([[0.5, 1.5, -0.25], [2.0, 0.75, -1.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: _dense_of(ember, ember.stack([t.to_sparse(), (2 * t).to_sparse()])),
                                    (x,))


# -- spikingjelly 2.0: _ops/dispatch.py defines each neuron op with torch.library.triton_op, then gives it kernels
# by dispatch key on a FRAGMENT Library: 'CPU' (its torch reference), 'CUDA', and 'AutogradCPU' (the reference,
# differentiated by autograd) -----------------------------------------------------------------------------------
_SERIAL = iter(range(10 ** 6))


def _tripled(lib):
    def forward(x: lib.Tensor) -> lib.Tensor:
        return x * 3
    return forward


def test_triton_op_and_kernels_by_dispatch_key():
    def run(lib, autograd_kernel):
        L = importlib.import_module(f'{lib.__name__}.library')
        ns = f'snn_sj{next(_SERIAL)}'
        library = L.Library(ns, 'FRAGMENT')
        op = L.triton_op(f'{ns}::forward', _tripled(lib), mutates_args=())
        op.register_fake(lambda x: lib.empty_like(x))
        body = getattr(lib.ops, ns).forward(lib.tensor([1.0, -2.0]))
        library.impl('forward', lambda x: x * 2, 'CPU')
        library.impl('forward', lambda x: x * 5, 'CUDA')
        out = [body, getattr(lib.ops, ns).forward(lib.tensor([1.0, -2.0])), op(lib.tensor([4.0]))]
        if autograd_kernel:
            library.impl('forward', lambda x: x.sin() * 2, 'AutogradCPU')
            x = lib.tensor([1.0, -2.0], requires_grad=True)
            y = getattr(lib.ops, ns).forward.default(x)
            y.sum().backward()
            out += [y, type(y.grad_fn).__name__, x.grad]
        return out
    run_both(lambda lib: run(lib, False))
    run_both(lambda lib: run(lib, True))


# -- spikingjelly: a multi-step LIFNode's input, scaled after requires_grad (``torch.randn(...,
# requires_grad=True) * 3``), has its .grad read: PyTorch's whole warning --------------------------------------------
def test_non_leaf_grad_warning_is_pytorchs():
    def run(lib):
        x = lib.randn(3, requires_grad=True) * 3
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            g = x.grad
        return [g, [re.sub(r' \(Triggered internally at [^)]*\)$', '', str(w.message)) for w in caught]]
    run_both(run)
