"""Adversarial-robustness, image-quality and optimal-transport libraries run under the alias against PyTorch
(session 39): torchattacks 3.5, piq 0.8, pytorch-msssim 1.0, POT 0.9 (``ot`` on its torch backend), geomloss 0.3
and torch-optimizer 0.3, each reduced to the lines that found a defect in ember."""
import importlib

import ember

from helpers import run_both


# -- torchattacks: attacks/apgd.py, apgdt.py, fab.py and square.py seed with ``torch.cuda.random.manual_seed`` -------
def test_cuda_random_module_seeds_and_refuses_states():
    def run(lib):
        r = importlib.import_module(f'{lib.__name__}.cuda.random')
        r.manual_seed(0)
        r.manual_seed_all(0)
        return [lib.cuda.random is r, r.manual_seed is lib.cuda.manual_seed, sorted(r.__all__)]
    run_both(run)
    run_both(lambda lib: lib.cuda.random.initial_seed(), message=False)
    run_both(lambda lib: lib.cuda.initial_seed())


def _once_warnings(lib, code):
    """The warnings ``code`` gives with ``T`` = ``lib``, filters at 'always' (each line: the messages of one step)."""
    import warnings
    seen = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        exec(code, {'T': lib, 'step': lambda: seen.append([str(m.message) for m in w[sum(map(len, seen)):]])})
    return seen


_ONCE = {}


def _fresh_torch(name):
    """``_once_warnings`` of PyTorch for every snippet of ``_ONCE_CODE``, in one fresh process (PyTorch gives these
    warnings once a process, and an earlier test may have spent them here)."""
    if not _ONCE:
        import inspect
        import json
        import subprocess
        import sys
        prog = inspect.getsource(_once_warnings) + ('import json, sys, torch\n'
                                                   'print(json.dumps({k: _once_warnings(torch, c) '
                                                   'for k, c in json.loads(sys.argv[1]).items()}))')
        out = subprocess.run([sys.executable, '-c', prog, json.dumps(_ONCE_CODE)], capture_output=True, text=True,
                             check=True).stdout
        _ONCE.update(json.loads(out))
    return _ONCE[name]


def _ember_once(name, *messages):
    """``_once_warnings`` of ember for snippet ``name``, its once-a-process flags for ``messages`` cleared first."""
    for m in messages:
        ember._warn._WARNED_ONCE.discard(m)
    return _once_warnings(ember, _ONCE_CODE[name])


_GRAD_SCALAR = ('Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n'
                'Consider using tensor.detach() first.')
_ONCE_CODE = {
    # piq: isc.py's inception_score makes ``torch.tensor(scores)`` of KL divergences that require grad
    'grad leaves': """
a = T.ones(2, requires_grad=True)
for make in (lambda: T.tensor([T.tensor(2), a[1] > 0], dtype=T.int64), lambda: T.tensor([a[0], 2.0]),
             lambda: T.as_tensor([[1.0, a[1]]]), lambda: T.tensor([[a[0]]], dtype=T.complex64)):
    with T.no_grad():
        make()
    make()
    step()
""",
    # POT: backend.py's coo_matrix makes ``torch.sparse_coo_tensor`` without choosing invariant checks
    'sparse': """
T.sparse_coo_tensor(T.tensor([[0, 1]]), T.tensor([1.0, 2.0]), size=(3,))
step()
T.sparse_csr_tensor(T.tensor([0, 1]), T.tensor([0]), T.tensor([1.0]), size=(1, 1))
step()
""",
    # torch-optimizer: pytorch_ranger's ranger.py calls ``addcmul_(1 - beta2, grad, grad)``, and Adahessian's users
    # ``loss.backward(create_graph=True)``
    'optimizers': """
x = T.ones(2, requires_grad=True)
x.detach().addcmul_(0.5, T.ones(2), T.ones(2))
step()
(x * x).sum().backward(create_graph=True)
step()
""",
}


def test_tensor_of_a_list_of_grad_tensors_warns_once_as_float_does():
    """PyTorch reads each leaf as float() does: the once-a-process warning, not in no-grad mode; to an integer or
    bool dtype a float or complex tensor leaf is refused, as ``__index__`` refuses it."""
    got = _ember_once('grad leaves', _GRAD_SCALAR)
    assert got == _fresh_torch('grad leaves')
    assert got[1] and got[1][0].startswith(_GRAD_SCALAR)
    for make in (lambda T: T.tensor([T.tensor(1.5)], dtype=T.int64), lambda T: T.tensor([T.tensor(1.0)], dtype=T.bool),
                 lambda T: T.as_tensor([[T.tensor(1.0), 2]], dtype=T.int32),
                 lambda T: T.tensor([T.tensor(1 + 0j)], dtype=T.uint8),
                 lambda T: T.tensor([T.tensor(True), T.tensor(3)], dtype=T.bool)):
        run_both(make, message=True)


def test_sparse_construction_warnings_end_as_pytorchs():
    """PyTorch's invariant-check and CSR beta warnings, each once a process, end with the C++ line that gave them."""
    got = _ember_once('sparse', ember._sparse._INVARIANTS_OFF, ember._sparse_csr._BETA)
    assert got == _fresh_torch('sparse')
    assert [len(s) for s in got] == [1, 1]


# -- POT: backend.py's norm calls ``torch.linalg.norm(a, dim=axis, keepdims=keepdims)`` ----------------------------
def test_linalg_norms_take_numpy_axis_and_keepdims():
    a = [[0.0, 1.0, 2.0], [3.0, 4.0, -5.0]]
    run_both(lambda T: [T.linalg.norm(T.tensor(a), dim=0, keepdims=True), T.linalg.norm(T.tensor(a), 1, axis=1),
                        T.linalg.vector_norm(T.tensor(a), axis=0, keepdims=True),
                        T.linalg.matrix_norm(T.tensor(a), keepdims=True),
                        T.linalg.cross(T.tensor(a * 2)[:3], T.tensor(a * 2)[1:4], axis=0),
                        T.linalg.vecdot(T.tensor(a), T.tensor(a), axis=0)])
    run_both(lambda T: T.linalg.norm(T.tensor(a), 2, 0, axis=0))


def test_cross_takes_numpy_axis_and_out():
    """torch.cross and Tensor.cross read ``axis`` for ``dim`` (PyTorch's argument parser does so for every op with a
    dim; ember raised TypeError), and torch.cross takes ``out=`` with PyTorch's dtype check."""
    a = [[0.5, 1.0, 2.0], [3.0, 4.0, -5.0], [1.5, -2.0, 0.25]]
    b = [[1.0, -1.0, 0.5], [2.0, 0.0, 1.0], [-3.0, 1.0, 2.0]]
    run_both(lambda T: [T.cross(T.tensor(a), T.tensor(b), axis=0), T.tensor(a).cross(T.tensor(b), axis=1),
                        T.cross(T.tensor(a), T.tensor(b), axis=-1, out=T.empty(3, 3)),
                        T.cross(T.tensor(a), T.tensor(b), dim=0)])

    def into(T, dtype):
        out = T.zeros(3, 3, dtype=dtype)
        r = T.cross(T.tensor(a, dtype=T.float64), T.tensor(b, dtype=T.float64), 1, out=out)
        return r is out, out
    run_both(lambda T: into(T, T.float64))
    run_both(lambda T: into(T, T.float32), message=True)
    run_both(lambda T: T.cross(T.tensor(a), T.tensor(b), axis=5), message=False)


def test_optimizer_step_warnings_end_as_pytorchs():
    """The deprecated scalar-first addcmul_ and backward(create_graph=True) warn once, ending as PyTorch's."""
    import ember.ops._old_overloads as old
    old._WARNED[0] = False
    got = _ember_once('optimizers', ember.autograd._CYCLE_WARNING)
    assert got == _fresh_torch('optimizers')
    assert [len(s) for s in got] == [1, 1]
