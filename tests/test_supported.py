"""docs/SUPPORTED.md (linked from the README) is generated from ember and must match it."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_supported_list_is_up_to_date():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'supported.py'), '--check'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _torch_has(torch_ns, name):
    """``name`` is PyTorch API in ``torch_ns``: an attribute, or an importable submodule."""
    import importlib
    import importlib.util
    import torch
    obj = torch.Tensor if torch_ns == 'torch.Tensor' else importlib.import_module(torch_ns)
    if hasattr(obj, name):
        return True
    return torch_ns != 'torch.Tensor' and importlib.util.find_spec(f'{torch_ns}.{name}') is not None


def test_supported_lists_only_pytorch_api():
    """Every name SUPPORTED.md lists exists in PyTorch, and every name it leaves out does not
    (torchvision is not installed beside PyTorch, so its namespaces are not checked here)."""
    code = ('import json, supported; print(json.dumps([[[t, n] for t, e in supported.NAMESPACES '
            'if not t.startswith("torchvision") for n in supported.api_names(t, e)], sorted(supported.NOT_TORCH)]))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,   # a fresh import of ember
                       cwd=os.path.join(ROOT, 'tools'))
    listed, not_torch = json.loads(r.stdout)
    extra = [f'{t}.{n}' for t, n in listed if not _torch_has(t, n)]
    assert not extra, f'not PyTorch API (add to NOT_TORCH in tools/supported.py): {extra}'
    wrong = [full for full in not_torch if _torch_has(*full.rsplit('.', 1))]
    assert not wrong, f'PyTorch has these: remove them from NOT_TORCH: {wrong}'
