"""torchvision's functional rotate/affine/colour operations against real torchvision 0.28, on PIL images and
tensors (the augmentation classes themselves are registry entries: tests/registry_data.py)."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as ET

from helpers import assert_same
from test_vision_oracle import TT, _image, _inputs, _same_pil


# --- colour, rotate and affine functionals ---

FUNCS = [('adjust_brightness', 0.3), ('adjust_brightness', 1.7), ('adjust_contrast', 0.4), ('adjust_contrast', 1.9),
         ('adjust_saturation', 0.2), ('adjust_saturation', 1.6), ('adjust_sharpness', 0.1), ('adjust_sharpness', 1.9),
         ('posterize', 3), ('solarize', 100), ('autocontrast',), ('equalize',), ('invert',), ('adjust_hue', 0.3),
         ('adjust_hue', -0.45), ('adjust_hue', 0.0)]


UINT8_ONLY = 'Only torch.uint8 image tensors are supported, but found torch.float32'


@pytest.mark.parametrize('kind', ['pil', 'uint8', 'float', 'gray'])
@pytest.mark.parametrize('fn', FUNCS, ids=lambda f: '-'.join(map(str, f)))
def test_colour_functionals_match_torchvision(fn, kind):
    name, *args = fn
    if kind == 'float' and name in ('posterize', 'equalize'):
        for lib, x in ((ET, _inputs('float')[0]), (TT, _inputs('float')[1])):
            with pytest.raises(TypeError, match=UINT8_ONLY):
                getattr(lib.functional, name)(x, *args)
        return
    if kind == 'float' and name == 'solarize':
        args = [0.4]
    if kind == 'gray':
        img = _image(9, 10, mode='L')
        arr = np.asarray(img)[None].copy()
        e_in, t_in = ember.tensor(arr), torch.tensor(arr)
    else:
        e_in, t_in = _inputs(kind)
    e, t = getattr(ET.functional, name)(e_in, *args), getattr(TT.functional, name)(t_in, *args)
    if isinstance(t, torch.Tensor):
        assert_same(e, t, atol=1e-6, rtol=0)
    else:
        _same_pil(e, t)


def test_affine_and_rotate_functionals_match_torchvision():
    for kind in ('pil', 'uint8', 'float'):
        e_in, t_in = _inputs(kind, 12, 16, seed=5)
        for args, kw in [((33.0,), {'expand': True}), ((-70.0,), {'center': [2, 9], 'fill': [5, 6, 7]}),
                         ((90,), {'interpolation': ET.InterpolationMode.BILINEAR})]:
            tkw = kw if 'interpolation' not in kw else dict(kw, interpolation=TT.InterpolationMode.BILINEAR)
            e, t = ET.functional.rotate(e_in, *args, **kw), TT.functional.rotate(t_in, *args, **tkw)
            (assert_same(e, t, atol=1e-5, rtol=0) if isinstance(t, torch.Tensor) else _same_pil(e, t))
        e = ET.functional.affine(e_in, 12.0, [2, -3], 0.9, [4.0, -6.0], fill=3)
        t = TT.functional.affine(t_in, 12.0, [2, -3], 0.9, [4.0, -6.0], fill=3)
        (assert_same(e, t, atol=1e-5, rtol=0) if isinstance(t, torch.Tensor) else _same_pil(e, t))


PROGRAM = '''
import torch
import torchvision
from torch import nn
from torchvision import datasets, transforms

torch.manual_seed(42)
weights = torchvision.models.EfficientNet_B0_Weights.DEFAULT
print(weights, weights.transforms())
train_tf = transforms.Compose([transforms.Resize((48, 48)), transforms.TrivialAugmentWide(num_magnitude_bins=31),
                               transforms.RandomRotation(10), transforms.ToTensor()])
data = datasets.ImageFolder("images", transform=train_tf)
loader = torch.utils.data.DataLoader(data, batch_size=6, shuffle=True)
model = torchvision.models.efficientnet_b0(weights=None)
for p in model.features.parameters():
    p.requires_grad = False
model.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(1280, len(data.classes)))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for x, y in loader:
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    opt.step()
    print(data.classes, tuple(x.shape), round(loss.item(), 4), x.sum().item())
'''


def test_transfer_learning_program_prints_what_torchvision_prints(tmp_path):
    """A mrdbourke-style EfficientNet-B0 transfer step with TrivialAugmentWide, unmodified under ``ember run``,
    prints exactly what PyTorch + torchvision print (same shuffling, augmentation draws, pixels and loss)."""
    import os
    import subprocess
    import sys
    for c in 'ab':
        (tmp_path / 'images' / c).mkdir(parents=True)
        for i in range(3):
            _image(30, 36, seed=i + ord(c)).save(tmp_path / 'images' / c / f'{i}.jpg')
    (tmp_path / 'train.py').write_text(PROGRAM)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    ours = subprocess.run([sys.executable, '-m', 'ember', 'run', 'train.py'], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    shim = ('import torch.library; torch.library.register_fake = lambda *a, **k: (lambda f: f); '
            'exec(open("train.py").read())')
    theirs = subprocess.run([sys.executable, '-c', shim], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout and 'InterpolationMode.BICUBIC' in ours.stdout
