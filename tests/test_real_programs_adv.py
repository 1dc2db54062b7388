"""Adversarial-robustness, image-quality and optimal-transport libraries run under the alias against PyTorch
(session 39): torchattacks 3.5, piq 0.8, pytorch-msssim 1.0, POT 0.9 (``ot`` on its torch backend), geomloss 0.3
and torch-optimizer 0.3, each reduced to the lines that found a defect in ember."""
import importlib

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
