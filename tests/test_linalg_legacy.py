"""torch's pre-linalg forms against PyTorch: triangular_solve (values, both outputs' gradients, grad_fn, errors,
its once-a-process warning, Tensor method, out=) and the functions removed in 1.9 (PyTorch's message)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check


def _tri(lib, upper, transpose, unit):
    def fn(lib_, b, A):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return lib_.triangular_solve(b, A, upper, transpose, unit)
    return fn


def _well_conditioned(n, batch=()):
    rng = np.random.default_rng(3)
    return (rng.uniform(-1, 1, batch + (n, n)) + 4 * np.eye(n)).astype(np.float32)


@pytest.mark.parametrize('upper', [True, False])
@pytest.mark.parametrize('transpose', [False, True])
@pytest.mark.parametrize('unit', [False, True])
def test_triangular_solve_matches_torch(upper, transpose, unit):
    b = np.random.default_rng(4).uniform(-1, 1, (3, 2)).astype(np.float32)
    check(_tri(None, upper, transpose, unit), inputs=[b, _well_conditioned(3)], gradgrad=True)


@pytest.mark.parametrize('bshape,ashape', [((2, 3, 2), (3, 3)), ((3, 4), (2, 3, 3)), ((2, 3, 1), (2, 3, 3))])
@pytest.mark.parametrize('transpose', [False, True])
def test_triangular_solve_broadcasts_batches(bshape, ashape, transpose):
    b = np.random.default_rng(5).uniform(-1, 1, bshape).astype(np.float32)
    check(_tri(None, True, transpose, False), inputs=[b, _well_conditioned(ashape[-1], ashape[:-2])])


def test_triangular_solve_tensor_method_and_out():
    rng = np.random.default_rng(6)
    b, A = rng.uniform(-1, 1, (3, 2)).astype(np.float32), _well_conditioned(3)
    got = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            m = lib.tensor(b).triangular_solve(lib.tensor(A), upper=False)
            x, c = lib.empty(0), lib.empty(0)
            r = lib.triangular_solve(lib.tensor(b), lib.tensor(A), False, out=(x, c))
        got.append([m.solution.numpy(), m.cloned_coefficient.numpy(), x.numpy(), c.numpy(), r[0].numpy()])
    for e, t in zip(*got):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('args', [lambda lib: (lib.ones(3, 2), lib.ones(3, 4)), lambda lib: (lib.ones(3), lib.eye(3)),
                                  lambda lib: (lib.ones(4, 2), lib.eye(3)), lambda lib: (lib.ones(3, 2), lib.ones(3)),
                                  lambda lib: (lib.ones(2, 3, 2), lib.ones(4, 3, 3)),
                                  lambda lib: (lib.ones(3, 2, dtype=lib.float64), lib.eye(3)),
                                  lambda lib: (lib.ones(3, 2, dtype=lib.int32), lib.eye(3, dtype=lib.int32))])
def test_triangular_solve_errors_are_torchs(args):
    caught = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with pytest.raises((RuntimeError, NotImplementedError)) as info:
                lib.triangular_solve(*args(lib))
        caught.append((info.type, str(info.value)))
    assert caught[0] == caught[1]


def test_triangular_solve_warns_once_a_process_as_torch():
    code = ('import warnings, {lib} as L\nwarnings.simplefilter("always")\nwith warnings.catch_warnings(record=True) '
            'as w:\n    for _ in range(3): L.triangular_solve(L.ones(2, 1), L.eye(2))\n'
            'print(len(w)); print(str(w[0].message).split(" (Triggered")[0])')
    outs = [subprocess.run([sys.executable, '-c', code.format(lib=lib)], capture_output=True, text=True, check=True).stdout
            for lib in ('ember', 'torch')]
    assert outs[0] == outs[1] and outs[0].startswith('1\n')


@pytest.mark.parametrize('call', [lambda lib: lib.symeig(lib.eye(2)), lambda lib: lib.eig(lib.eye(2), True),
                                  lambda lib: lib.lstsq(lib.eye(2), lib.eye(2)), lambda lib: lib.solve(lib.eye(2), lib.eye(2)),
                                  lambda lib: lib.matrix_rank(lib.eye(2)), lambda lib: lib.eye(2).symeig(),
                                  lambda lib: lib.eye(2).eig(), lambda lib: lib.eye(2).lstsq(lib.eye(2)),
                                  lambda lib: lib.eye(2).solve(lib.eye(2))])
def test_removed_functions_raise_torchs_message(call):
    caught = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            call(lib)
        caught.append(str(info.value))
    assert caught[0] == caught[1]
