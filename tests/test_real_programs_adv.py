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


# -- piq: isc.py's inception_score makes ``torch.tensor(scores)`` of KL divergences that require grad -------------
_GRAD_LEAVES = '''
import warnings
a = T.ones(2, requires_grad=True)
seen = []
for make in (lambda: T.tensor([T.tensor(2), a[1] > 0], dtype=T.int64), lambda: T.tensor([a[0], 2.0]),
             lambda: T.as_tensor([[1.0, a[1]]]), lambda: T.tensor([[a[0]]], dtype=T.complex64)):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        with T.no_grad():
            make()
        make()
    seen.append([str(m.message).split(' (Triggered')[0] for m in w])
print(seen)
'''


def test_tensor_of_a_list_of_grad_tensors_warns_once_as_float_does():
    """PyTorch reads each leaf as float() does: the once-a-process warning, not in no-grad mode (a fresh PyTorch
    process gives the oracle, as the warning is spent once given); to an integer or bool dtype a float or complex
    tensor leaf is refused, as ``__index__`` refuses it."""
    import subprocess
    import sys
    torch_out = subprocess.run([sys.executable, '-c', 'import torch as T' + _GRAD_LEAVES], capture_output=True,
                               text=True, check=True).stdout
    ember._warn._WARNED_ONCE.discard('Converting a tensor with requires_grad=True to a scalar may lead to '
                                     'unexpected behavior.\nConsider using tensor.detach() first.')
    printed = []
    exec('T = ember' + _GRAD_LEAVES, {'ember': ember, 'print': lambda s: printed.append(str(s))})
    assert printed[0] + '\n' == torch_out
    assert 'Converting a tensor' in torch_out
    for make in (lambda T: T.tensor([T.tensor(1.5)], dtype=T.int64), lambda T: T.tensor([T.tensor(1.0)], dtype=T.bool),
                 lambda T: T.as_tensor([[T.tensor(1.0), 2]], dtype=T.int32),
                 lambda T: T.tensor([T.tensor(1 + 0j)], dtype=T.uint8),
                 lambda T: T.tensor([T.tensor(True), T.tensor(3)], dtype=T.bool)):
        run_both(make, message=True)
