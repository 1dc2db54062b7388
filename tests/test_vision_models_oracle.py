"""EfficientNet and ViT against real torchvision 0.28: layout, repr and initial weights under one seed,
forward values and gradients with torchvision's weights (its .pth files), weights enums, offline loading."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import models as emodels

from helpers import assert_same, import_torchvision

tv = import_torchvision()


def _same_init(e, t):
    """The same architecture, printed the same, with the same initial values."""
    assert repr(e) == repr(t)
    es, ts = e.state_dict(), t.state_dict()
    assert [(k, tuple(v.shape)) for k, v in es.items()] == [(k, tuple(v.shape)) for k, v in ts.items()]
    for k in ts:
        np.testing.assert_array_equal(es[k].numpy(), ts[k].numpy(), err_msg=k)


@pytest.mark.parametrize('name', ['efficientnet_b0', 'vit_b_16'])
def test_architecture_and_init_match_torchvision(name):
    ember.manual_seed(3)
    e = emodels.get_model(name)
    torch.manual_seed(3)
    t = tv.models.get_model(name)
    _same_init(e, t)


def _load_pth(e, t, tmp_path):
    """Load torchvision's state dict into ``e`` through a .pth file written by torch.save."""
    torch.save(t.state_dict(), tmp_path / 'w.pth')
    e.load_state_dict(ember.load(str(tmp_path / 'w.pth')))


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_efficientnet_b0_forward_eval_and_train_match_torchvision(tmp_path):
    torch.manual_seed(0)
    t = tv.models.efficientnet_b0(num_classes=7)
    e = emodels.efficientnet_b0(num_classes=7)
    _load_pth(e, t, tmp_path)
    x = _x((2, 3, 48, 48))     # 2x2 pixels at the last stage: train-mode batch norm over 8 values, not 2
    t.eval(), e.eval()
    with torch.no_grad():
        want = t(torch.tensor(x))
    with ember.no_grad():
        got = e(ember.tensor(x))
    assert_same(got, want, atol=1e-4, rtol=1e-4)
    t.train(), e.train()     # batch statistics, stochastic depth and dropout draw from the same stream
    torch.manual_seed(5)
    tx = torch.tensor(x, requires_grad=True)
    tout = t(tx)
    ember.manual_seed(5)
    ex = ember.tensor(x, requires_grad=True)
    eout = e(ex)
    assert_same(eout, tout, atol=1e-4, rtol=1e-4)
    r = _x(tuple(tout.shape), seed=1)
    (tout * torch.tensor(r)).sum().backward()
    (eout * ember.tensor(r)).sum().backward()
    # float32 rounding differs through 16 train-mode batch norms: compare to 1e-3 of the gradients' scale
    scale = float(tx.grad.abs().max())
    assert_same(ex.grad, tx.grad, atol=1e-3 * scale, rtol=0)
    scale = float(t.features[0][0].weight.grad.abs().max())
    assert_same(e.features[0][0].weight.grad, t.features[0][0].weight.grad, atol=1e-3 * scale, rtol=0)


def _small_vit(lib_models, **kw):
    return lib_models.VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=12,
                                        mlp_dim=20, num_classes=5, **kw)


@pytest.mark.parametrize('kw', [{}, {'representation_size': 6}])
def test_small_vit_init_forward_backward_match_torchvision(kw):
    torch.manual_seed(1)
    t = _small_vit(tv.models, **kw)
    ember.manual_seed(1)
    e = _small_vit(emodels, **kw)
    _same_init(e, t)
    with torch.no_grad():     # the head starts at zero: give it values so the output says something
        t.heads.head.weight.normal_()
    e.heads.head.weight.data = ember.tensor(t.heads.head.weight.detach().numpy())
    x = _x((3, 3, 16, 16), seed=2)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tout, eout = t(tx), e(ex)
    assert_same(eout, tout, atol=1e-5, rtol=1e-4)
    tout.sum().backward()
    eout.sum().backward()
    assert_same(ex.grad, tx.grad, atol=1e-5, rtol=1e-4)
    for (k, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(ep.grad, tp.grad, atol=1e-5, rtol=1e-3, what=k)
    with pytest.raises(AssertionError, match='Wrong image height! Expected 16 but got 8!'):
        e(ember.zeros(1, 3, 8, 16))


def test_vit_loads_pre_version2_mlp_keys():
    """Checkpoints without version metadata name the MLP's linear layers linear_1/linear_2, as torchvision
    still accepts."""
    torch.manual_seed(0)
    t = _small_vit(tv.models)
    old = {k.replace('mlp.0.', 'mlp.linear_1.').replace('mlp.3.', 'mlp.linear_2.'): v
           for k, v in t.state_dict().items()}
    assert any('linear_1' in k for k in old)
    e = _small_vit(emodels)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in old.items()})
    t2 = _small_vit(tv.models)
    t2.load_state_dict(dict(old))
    x = _x((1, 3, 16, 16))
    with torch.no_grad():
        want = t2(torch.tensor(x))
    assert_same(e(ember.tensor(x)).detach(), want, atol=1e-5, rtol=1e-4)


def _words(s):
    return ' '.join(s.split()) if isinstance(s, str) else s


@pytest.mark.parametrize('name', ['efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b7',
                                  'efficientnet_v2_s', 'efficientnet_v2_l', 'vit_b_16', 'vit_l_16', 'vit_h_14'])
def test_weights_enums_match_torchvision(name):
    ew, tw = emodels.get_model_weights(name), tv.models.get_model_weights(name)
    assert list(ew.__members__) == list(tw.__members__) and ew.DEFAULT.name == tw.DEFAULT.name
    for w in tw:
        e = ew[w.name]
        assert repr(e) == repr(w) and e.url == w.url
        assert list(e.meta) == list(w.meta)
        assert {k: _words(v) for k, v in e.meta.items()} == {k: _words(v) for k, v in w.meta.items()}
        assert repr(e.transforms()) == repr(w.transforms())
    assert emodels.get_weight(f'{tw.__name__}.DEFAULT') is ew.DEFAULT


def test_weights_transforms_output_matches_torchvision():
    from PIL import Image
    arr = np.random.default_rng(4).integers(0, 256, (20, 26, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    for name in ('efficientnet_b0', 'vit_b_16'):
        ew, tw = emodels.get_model_weights(name).DEFAULT, tv.models.get_model_weights(name).DEFAULT
        assert_same(ew.transforms()(img), tw.transforms()(img), atol=1e-5, rtol=0)
        x = arr.transpose(2, 0, 1).astype(np.float32) / 255   # the tensor path (bicubic for B0, antialiased)
        assert_same(ew.transforms()(ember.tensor(x)), tw.transforms()(torch.tensor(x)), atol=1e-4, rtol=0)


def test_efficientnet_weights_load_from_hub_cache(tmp_path, monkeypatch):
    """``weights=`` reads torchvision's file from the torch.hub cache (no download needed)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    torch.manual_seed(2)
    t = tv.models.efficientnet_b0().eval()
    folder = tmp_path / 'hub' / 'checkpoints'
    folder.mkdir(parents=True)
    torch.save(t.state_dict(), folder / 'efficientnet_b0_rwightman-7f5810bc.pth')
    e = emodels.efficientnet_b0(weights=emodels.EfficientNet_B0_Weights.DEFAULT).eval()
    x = _x((1, 3, 24, 24))
    with torch.no_grad():
        want = t(torch.tensor(x))
    with ember.no_grad():
        assert_same(e(ember.tensor(x)), want, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 3 instead."):
        emodels.efficientnet_b0(weights='DEFAULT', num_classes=3)


def test_vit_weights_fix_image_size_and_missing_legacy_weights():
    for lib in (tv.models, emodels):
        with pytest.raises(ValueError, match="The parameter 'image_size' expected value 224 but got 32 instead."):
            lib.vit_b_16(weights='IMAGENET1K_V1', image_size=32)
        with pytest.raises(ValueError, match='No weights available for model vit_h_14'):
            lib.vit_h_14(pretrained=True)
