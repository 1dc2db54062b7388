"""Real PyTorch programs under the alias against PyTorch (session 45, lane realI): Aladdin Persson's
Machine-Learning-Collection scripts (tensor basics, EfficientNet, the transformer from scratch, YOLOv3 with its loss,
NMS and mAP, ProGAN with its gradient penalty), among others; each defect found is reduced here to the lines that
found it (the programs themselves are not needed)."""
import warnings

import pytest
import torch

import ember
from helpers import run_both  # noqa: F401


def _scaler_warnings(lib):
    """Two ``torch.cuda.amp.GradScaler()`` from two lines (ProGAN's train.py makes one for the critic, one for the
    generator) under the default filter: the warnings shown, as (category, message, whether from the caller's file)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('default')
        lib.cuda.amp.GradScaler()
        lib.cuda.amp.GradScaler()
    return [(w.category.__name__, str(w.message), w.filename == __file__) for w in seen]


def test_cuda_grad_scaler_warns_once_from_its_own_module():
    """PyTorch's 'GradScaler is enabled, but CUDA is not available' comes from torch.cuda.amp's ``super().__init__``
    line, one location, so it is shown once; ember's pointed at each caller's line and was shown once per scaler."""
    assert _scaler_warnings(ember) == _scaler_warnings(torch)


# -- ChatRWKV's RWKV_in_150_lines.py: ``class RWKV_RNN(torch.jit.ScriptModule)`` with ``@torch.jit.script_method``
# time/channel mixing; the class's MRO printed ``torch.jit.ScriptModule`` where PyTorch's is in torch.jit._script, and
# ``from torch.jit._script import RecursiveScriptModule`` (a common isinstance check) did not import.
def test_jit_classes_live_in_pytorchs_submodules():
    from ember import aliasing
    names = ['ScriptModule', 'RecursiveScriptModule', 'ScriptWarning', 'Attribute', 'TracedModule',
             'TopLevelTracedModule', 'TracerWarning', 'TracingCheckError']
    want = {n: getattr(torch.jit, n).__module__ for n in names}
    assert {n: getattr(ember.jit, n).__module__.replace('ember', 'torch', 1) for n in names} == want
    with aliasing.as_torch():
        import torch as aliased
        from torch.jit._script import RecursiveScriptModule
        from torch.jit._trace import TracerWarning
        assert RecursiveScriptModule is ember.jit.RecursiveScriptModule and TracerWarning is ember.jit.TracerWarning
        assert str(aliased.jit.ScriptModule) == str(torch.jit.ScriptModule)
