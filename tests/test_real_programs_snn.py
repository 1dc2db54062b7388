"""Spiking-neural-network libraries run under the alias against PyTorch (session 38): snntorch 1.0 (its tutorials
1-7: spikegen, Leaky/Synaptic/Alpha, surrogate gradients, BPTT, snntorch.functional) and norse 1.1, each reduced to
the lines that found a defect in ember."""
import importlib
import typing

import pytest

import ember
from helpers import run_both


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
