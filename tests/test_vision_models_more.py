"""MobileNetV3, DenseNet, SqueezeNet, ShuffleNetV2, GoogLeNet, Inception v3 and ConvNeXt against real
torchvision 0.28: repr and initial weights under one seed, forward and backward with torchvision's weights
(eval and train mode), and the weights paths that adjust the model (old DenseNet keys, auxiliary heads)."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import models as emodels

from helpers import assert_same, import_torchvision

tv = import_torchvision()


@pytest.mark.parametrize('name, kwargs', [
    ('mobilenet_v3_small', {}), ('mobilenet_v3_large', {'num_classes': 10}),
    ('mobilenet_v3_small', {'width_mult': 0.75, 'reduced_tail': True, 'dilated': True}),
    ('densenet121', {}), ('squeezenet1_0', {}), ('squeezenet1_1', {'num_classes': 7}),
    ('shufflenet_v2_x0_5', {}), ('shufflenet_v2_x1_0', {'num_classes': 5}),
    ('googlenet', {'init_weights': True}), ('googlenet', {'aux_logits': False, 'init_weights': True}),
    ('inception_v3', {'init_weights': True}), ('convnext_tiny', {'stochastic_depth_prob': 0.3}),
    ('mnasnet0_5', {}), ('mnasnet1_3', {'num_classes': 4, 'dropout': 0.1})])
def test_architecture_repr_and_init_match_torchvision(name, kwargs):
    ember.manual_seed(3)
    e = emodels.get_model(name, weights=None, **kwargs)
    torch.manual_seed(3)
    t = tv.models.get_model(name, weights=None, **kwargs)
    assert repr(e) == repr(t)
    es, ts = e.state_dict(), t.state_dict()
    assert [(k, tuple(v.shape)) for k, v in es.items()] == [(k, tuple(v.shape)) for k, v in ts.items()]
    for k in ts:
        np.testing.assert_array_equal(es[k].numpy(), ts[k].numpy(), err_msg=k)


def _to_ember(sd):
    """torch's state dict as ember tensors, with its module versions (MNASNet refuses a dict without them)."""
    from collections import OrderedDict
    out = OrderedDict((k, ember.tensor(v.numpy())) for k, v in sd.items())
    out._metadata = sd._metadata
    return out


def _small_convnext(models):
    cfg = models.convnext.CNBlockConfig
    return models.convnext.ConvNeXt([cfg(16, 32, 2), cfg(32, None, 1)], stochastic_depth_prob=0.5, num_classes=6)


@pytest.mark.parametrize('name, kwargs, size', [
    ('mobilenet_v3_small', {'num_classes': 6}, 32), ('densenet121', {'num_classes': 6, 'drop_rate': 0.2}, 64),
    ('densenet121', {'num_classes': 6, 'memory_efficient': True}, 32), ('squeezenet1_1', {'num_classes': 6}, 64),
    ('shufflenet_v2_x0_5', {'num_classes': 6}, 32), ('googlenet', {'num_classes': 6, 'init_weights': False}, 64),
    ('inception_v3', {'num_classes': 6, 'aux_logits': False, 'init_weights': False}, 107),
    (_small_convnext, {}, 32), ('mnasnet0_5', {'num_classes': 6}, 32)])
def test_forward_backward_match_torchvision(name, kwargs, size):
    """torchvision's weights in both: float32 outputs in eval mode, then in float64 the outputs and input
    gradients in eval and train mode (batch norm statistics, dropout and stochastic depth draw from the same
    stream). float64, because float32 rounding differs through dozens of batch norms and ReLUs that flip."""
    torch.manual_seed(0)
    if callable(name):
        t, e = name(tv.models), name(emodels)
    else:
        t = tv.models.get_model(name, weights=None, **kwargs)
        e = emodels.get_model(name, weights=None, **kwargs)
    e.load_state_dict(_to_ember(t.state_dict()))
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    t.eval(), e.eval()
    with torch.no_grad(), ember.no_grad():
        want = t(torch.tensor(x))
        assert_same(e(ember.tensor(x)), want, atol=1e-4 * float(want.abs().max()), rtol=0)
    t.double(), e.double()
    for mode in ('eval', 'train'):
        getattr(t, mode)(), getattr(e, mode)()
        torch.manual_seed(5)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tout = t(tx)
        ember.manual_seed(5)
        ex = ember.tensor(x, dtype=ember.float64, requires_grad=True)
        eout = e(ex)
        if isinstance(tout, tuple):
            assert type(eout).__name__ == type(tout).__name__ and len(eout) == len(tout)
            tout, eout = tout[0] + tout[1], eout[0] + eout[1]
        assert_same(eout, tout, atol=1e-9, rtol=1e-7, what=mode)
        r = np.random.default_rng(1).standard_normal(tuple(tout.shape))
        (tout * torch.tensor(r)).sum().backward()
        (eout * ember.tensor(r)).sum().backward()
        assert_same(ex.grad, tx.grad, atol=1e-9 * float(tx.grad.abs().max()), rtol=1e-6, what=mode + ' grad')


def _cache(tmp_path, monkeypatch, weights, state_dict):
    """Put ``state_dict`` (saved by torch) where the hub cache holds ``weights``' file."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    folder = tmp_path / 'hub' / 'checkpoints'
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, folder / weights.url.rsplit('/', 1)[1])


def test_densenet_weights_with_old_key_names_load(tmp_path, monkeypatch):
    """The published DenseNet files name ``denselayerN.norm1`` as ``denselayerN.norm.1``; the builder renames."""
    torch.manual_seed(0)
    t = tv.models.densenet121()
    old = {k.replace('.norm1.', '.norm.1.').replace('.conv2.', '.conv.2.'): v for k, v in t.state_dict().items()
           if not k.endswith('num_batches_tracked')}     # the files predate it: batch norm fills it in
    assert any('.norm.1.' in k for k in old)
    _cache(tmp_path, monkeypatch, emodels.DenseNet121_Weights.DEFAULT, old)
    e = emodels.densenet121(weights=emodels.DenseNet121_Weights.DEFAULT)
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(e.state_dict()[k].numpy(), v.numpy(), err_msg=k)


@pytest.mark.parametrize('aux', [None, True])
def test_googlenet_and_inception_weights_set_up_the_model_as_torchvision(tmp_path, monkeypatch, aux):
    """With weights: inputs are transformed, and the untrained auxiliary heads are dropped unless asked for."""
    kw = {} if aux is None else {'aux_logits': aux}
    torch.manual_seed(0)
    tg = tv.models.GoogLeNet(transform_input=True, aux_logits=True, init_weights=False)
    ti = tv.models.Inception3(transform_input=True, aux_logits=True, init_weights=False)
    _cache(tmp_path, monkeypatch, emodels.GoogLeNet_Weights.DEFAULT, tg.state_dict())
    _cache(tmp_path, monkeypatch, emodels.Inception_V3_Weights.DEFAULT, ti.state_dict())
    if aux:
        with pytest.warns(UserWarning, match='auxiliary heads in the pretrained googlenet model are NOT pretrained'):
            eg = emodels.googlenet(weights='DEFAULT', **kw)
    else:
        eg = emodels.googlenet(weights='DEFAULT', **kw)
        tg.aux_logits, tg.aux1, tg.aux2 = False, None, None
    ei = emodels.inception_v3(weights='DEFAULT', **kw)
    assert repr(eg) == repr(tg) and repr(ei) == repr(ti)
    assert eg.transform_input and ei.transform_input and ei.aux_logits
    x = np.random.default_rng(0).random((1, 3, 75, 75)).astype(np.float32)
    for e, t in ((eg, tg), (ei, ti)):
        t.eval(), e.eval()
        with torch.no_grad(), ember.no_grad():
            assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-4, rtol=1e-4)


def test_builders_listed():
    names = tv.models.list_models()
    for name in ('mobilenet_v3_large', 'mobilenet_v3_small', 'densenet121', 'densenet161', 'densenet169',
                 'densenet201', 'squeezenet1_0', 'squeezenet1_1', 'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0',
                 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0', 'googlenet', 'inception_v3', 'convnext_tiny',
                 'convnext_small', 'convnext_base', 'convnext_large', 'mnasnet0_5', 'mnasnet0_75', 'mnasnet1_0',
                 'mnasnet1_3'):
        assert name in names and name in emodels.list_models()
        assert emodels.get_model_weights(name).__name__ == tv.models.get_model_weights(name).__name__
        assert emodels.get_model_weights(name).DEFAULT.url == tv.models.get_model_weights(name).DEFAULT.url
        em, tm = emodels.get_model_weights(name).DEFAULT.meta, tv.models.get_model_weights(name).DEFAULT.meta
        assert {k: v for k, v in em.items() if k != '_docs'} == {k: v for k, v in tm.items() if k != '_docs'}


def test_mnasnet_version_1_checkpoint_rebuilds_the_stem():
    """A checkpoint saved before torchvision 0.5 (version 1: the stem at 32/16 channels whatever alpha) loads as
    torchvision loads it: the stem is rebuilt to fit, with its warning."""
    from collections import OrderedDict
    torch.manual_seed(0)
    old = tv.models.MNASNet(0.5)
    empty = OrderedDict()
    empty._metadata = {'': {'version': 1}}
    with pytest.warns(UserWarning, match='A new version of MNASNet'):
        old.load_state_dict(empty, strict=False)   # rebuilds old's stem in the version-1 layout
    sd = old.state_dict()
    sd._metadata['']['version'] = 1
    t, e = tv.models.MNASNet(0.5), emodels.MNASNet(0.5)
    with pytest.warns(UserWarning, match='A new version of MNASNet'):
        t.load_state_dict(sd)
    esd = OrderedDict((k, ember.tensor(v.numpy())) for k, v in sd.items())
    esd._metadata = sd._metadata
    with pytest.warns(UserWarning, match='A new version of MNASNet'):
        e.load_state_dict(esd)
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    t.eval(), e.eval()
    with torch.no_grad(), ember.no_grad():
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-5, rtol=1e-4)
