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


def test_pytorch_api_names_are_pytorchs():
    """tools/pytorch_api.json (the public names SUPPORTED.md may list) is what tools/pytorch_api.py reads from the
    installed PyTorch 2.13 (and torchvision, where it imports: its lists are checked there)."""
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'pytorch_api.py'), '--check'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _listed():
    """{namespace: names} SUPPORTED.md lists, from a fresh import of ember (tools/supported.py's own view)."""
    code = ('import json, supported; print(json.dumps({t: supported.api_names(t, e) for t, e in supported.NAMESPACES}))')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                       cwd=os.path.join(ROOT, 'tools'))
    return json.loads(r.stdout)


def test_supported_lists_only_pytorch_api():
    """Every name SUPPORTED.md lists is public API in PyTorch 2.13: an attribute or an importable submodule, and
    not a helper its module imports (lr_scheduler's Counter) nor an ember internal (vision.utils's pil_module)."""
    import importlib
    import importlib.util
    import torch
    listed = _listed()
    extra = []
    for ns, names in listed.items():
        if ns.startswith('torchvision'):
            continue
        obj = torch.Tensor if ns == 'torch.Tensor' else importlib.import_module(ns)
        declared = getattr(obj, '__all__', None)
        for n in names:
            if not hasattr(obj, n) and (ns == 'torch.Tensor' or importlib.util.find_spec(f'{ns}.{n}') is None):
                extra.append(f'{ns}.{n}')
            elif declared is not None and n not in declared and ns != 'torch' and \
                    not importlib.util.find_spec(f'{ns}.{n}'):
                extra.append(f'{ns}.{n}')
    assert not extra, f'not PyTorch API: {extra}'
    for bad in ('Counter', 'bisect_right', 'ref', 'wraps', 'Tensor', 'Optimizer', 'EPOCH_DEPRECATION_WARNING'):
        assert bad not in listed['torch.optim.lr_scheduler']
    assert not {'ember', 'pil_module', 'wrap'} & set(listed['torchvision.utils'])
    assert {'make_grid', 'save_image'} <= set(listed['torchvision.utils'])
    assert {'tensor', 'numpy'} <= set(listed['torch']) | set(listed['torch.Tensor'])
