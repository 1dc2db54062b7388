"""RegNet, Swin, MaxViT and the video models against real torchvision 0.28 (tests/helpers.import_torchvision):
state-dict keys and shapes, parameter counts equal to the weights' num_params, reprs, weights enums, forward
values and training gradients with torchvision's weights copied in, and float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import models as emodels

from helpers import assert_same, import_torchvision

tv = import_torchvision()


def _layout(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def _copy_weights(e, t):
    """Load torchvision model ``t``'s state dict into the ember model ``e`` (same keys)."""
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _num_params(model):
    return sum(p.numel() for p in model.parameters())


def _words(s):
    return ' '.join(s.split()) if isinstance(s, str) else s


def _same_weights_enum(name):
    """The weights enum of ``name``: members, default, URLs, meta (docs up to whitespace) and transforms."""
    ew, tw = emodels.get_model_weights(name), tv.models.get_model_weights(name)
    assert ew.__name__ == tw.__name__
    assert list(ew.__members__) == list(tw.__members__) and ew.DEFAULT.name == tw.DEFAULT.name
    for w in tw:
        e = ew[w.name]
        assert repr(e) == repr(w) and e.url == w.url
        assert list(e.meta) == list(w.meta)
        assert {k: _words(v) for k, v in e.meta.items()} == {k: _words(v) for k, v in w.meta.items()}
        assert repr(e.transforms()) == repr(w.transforms())
    assert emodels.get_weight(f'{tw.__name__}.DEFAULT') is ew.DEFAULT


def _same_model(name, **kwargs):
    """ember's and torchvision's ``name``: the same state-dict layout and repr; the parameter count is the
    default weights' num_params."""
    e = emodels.get_model(name, **kwargs)
    t = tv.models.get_model(name, **kwargs)
    assert _layout(e) == _layout(t)
    assert repr(e) == repr(t)
    assert _num_params(e) == emodels.get_model_weights(name).DEFAULT.meta['num_params']


def _forward_and_train_match(e, t, x, atol=1e-4):
    """With ``t``'s weights in ``e``: eval outputs equal; a train-mode step (same seed for dropout and
    stochastic depth) gives the same output, input gradient and parameter gradients."""
    _copy_weights(e, t)
    t.eval(), e.eval()
    with torch.no_grad(), ember.no_grad():
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=atol, rtol=1e-4, what='eval forward')
    t.train(), e.train()
    torch.manual_seed(5)
    tx = torch.tensor(x, requires_grad=True)
    tout = t(tx)
    ember.manual_seed(5)
    ex = ember.tensor(x, requires_grad=True)
    eout = e(ex)
    assert_same(eout, tout, atol=atol, rtol=1e-4, what='train forward')
    r = _x(tuple(tout.shape), seed=1)
    (tout * torch.tensor(r)).sum().backward()
    (eout * ember.tensor(r)).sum().backward()
    assert_same(ex.grad, tx.grad, atol=atol, rtol=1e-3, what='input grad')
    tparams = dict(t.named_parameters())
    for k, p in e.named_parameters():
        assert_same(p.grad, tparams[k].grad, atol=atol, rtol=1e-3, what=f'grad of {k}')


def _constructor_args(cls, build, **kwargs):
    """The arguments ``build(**kwargs)`` passes to ``cls`` (which is not built)."""
    real, seen = cls.__init__, []

    def grab(self, *a, **k):
        seen.append((a, k))
        raise StopIteration
    cls.__init__ = grab
    try:
        with pytest.raises(StopIteration):
            build(**kwargs)
    finally:
        cls.__init__ = real
    return seen[0]


def _names(kwargs):
    """Classes by name (ember's and torchvision's are different objects)."""
    return {k: getattr(v, '__name__', v) for k, v in kwargs.items()}


def _finite_differences(model, x, names):
    """float64 central differences of the training loss agree with backward for the input and the
    parameters ``names`` (the others held fixed)."""
    model = model.double().train()
    params = dict(model.named_parameters())
    fixed = {k: v.detach() for k, v in params.items() if k not in names}

    def loss(inp, *chosen):
        out = ember.func.functional_call(model, {**fixed, **dict(zip(names, chosen))}, (inp,))
        return (out * ember.linspace(-1, 1, out.numel(), dtype=ember.float64).reshape(out.shape)).sum()

    inputs = [ember.tensor(x.astype(np.float64), requires_grad=True)]
    inputs += [params[k].detach().clone().requires_grad_() for k in names]
    assert ember.autograd.gradcheck(loss, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


# --- RegNet ---

REGNETS = ['regnet_y_400mf', 'regnet_y_800mf', 'regnet_y_1_6gf', 'regnet_y_3_2gf', 'regnet_y_8gf', 'regnet_y_16gf',
           'regnet_y_32gf', 'regnet_y_128gf', 'regnet_x_400mf', 'regnet_x_800mf', 'regnet_x_1_6gf',
           'regnet_x_3_2gf', 'regnet_x_8gf', 'regnet_x_16gf', 'regnet_x_32gf']


def test_regnet_stage_parameters_match_torchvision():
    """The quantised width rule gives torchvision's stages for every builder (the big ones are not built)."""
    for name in REGNETS:
        (e,), _ = _constructor_args(emodels.regnet.RegNet, emodels.get_model_builder(name))
        (t,), _ = _constructor_args(tv.models.regnet.RegNet, tv.models.get_model_builder(name))
        for attr in ('depths', 'widths', 'group_widths', 'bottleneck_multipliers', 'strides', 'se_ratio'):
            assert getattr(e, attr) == getattr(t, attr), (name, attr)


@pytest.mark.parametrize('name', ['regnet_y_400mf', 'regnet_x_400mf', 'regnet_y_1_6gf', 'regnet_x_3_2gf'])
def test_regnet_layout_repr_and_num_params_match_torchvision(name):
    _same_model(name)


@pytest.mark.parametrize('name', REGNETS)
def test_regnet_weights_enums_match_torchvision(name):
    _same_weights_enum(name)
    assert name in emodels.list_models() and emodels.get_model_builder(name).__name__ == name


def _tiny_regnet(lib):
    params = lib.regnet.BlockParams(depths=[1, 2], widths=[8, 16], group_widths=[4, 8],
                                    bottleneck_multipliers=[1.0, 0.5], strides=[2, 2], se_ratio=0.25)
    return lib.RegNet(params, num_classes=5, stem_width=8)


def test_tiny_regnet_forward_and_training_step_match_torchvision():
    torch.manual_seed(0)
    t = _tiny_regnet(tv.models)
    e = _tiny_regnet(emodels)
    assert _layout(e) == _layout(t) and repr(e) == repr(t)
    _forward_and_train_match(e, t, _x((2, 3, 16, 16)))
    _finite_differences(e, _x((2, 3, 8, 8), seed=3), ['trunk_output.block2.block2-1.f.se.fc1.bias', 'fc.bias'])


def test_regnet_legacy_pretrained_and_num_classes_checks():
    for lib in (tv.models, emodels):
        with pytest.raises(ValueError, match='No weights available for model regnet_y_128gf'):
            lib.regnet_y_128gf(pretrained=True)
        with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 3 instead."):
            lib.regnet_x_400mf(weights='DEFAULT', num_classes=3)


def _same_init(name, **kwargs):
    """ember's and torchvision's ``name`` built after the same seed: same layout, repr and initial values."""
    ember.manual_seed(3)
    e = emodels.get_model(name, **kwargs)
    torch.manual_seed(3)
    t = tv.models.get_model(name, **kwargs)
    assert _layout(e) == _layout(t) and repr(e) == repr(t)
    es = e.state_dict()
    for k, v in t.state_dict().items():
        assert repr(es[k].dtype) == repr(v.dtype), k
        np.testing.assert_array_equal(es[k].numpy(), v.numpy(), err_msg=k)
    return e, t


@pytest.mark.parametrize('name', ['regnet_y_800mf', 'regnet_y_3_2gf', 'regnet_x_800mf', 'regnet_x_1_6gf', 'swin_s',
                                  'swin_v2_s'])
def test_num_params_equal_the_weights_meta(name):
    assert _num_params(emodels.get_model(name)) == emodels.get_model_weights(name).DEFAULT.meta['num_params']


# --- Swin Transformer ---

SWINS = ['swin_t', 'swin_s', 'swin_b', 'swin_v2_t', 'swin_v2_s', 'swin_v2_b']


@pytest.mark.parametrize('name', ['swin_t', 'swin_v2_t'])
def test_swin_init_layout_and_forward_match_torchvision(name):
    """Same seed, same initial weights (buffers included); the eval forward of a 32x32 image (8x8 tokens:
    padded, shifted windows first, then stages smaller than a window, without shift) agrees."""
    e, t = _same_init(name)
    assert _num_params(e) == emodels.get_model_weights(name).DEFAULT.meta['num_params']
    x = _x((1, 3, 32, 32))
    t.eval(), e.eval()
    with torch.no_grad(), ember.no_grad():
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('name', SWINS)
def test_swin_weights_enums_and_builder_arguments_match_torchvision(name):
    _same_weights_enum(name)
    e = _constructor_args(emodels.SwinTransformer, emodels.get_model_builder(name), num_classes=7)
    t = _constructor_args(tv.models.SwinTransformer, tv.models.get_model_builder(name), num_classes=7)
    assert e[0] == t[0] and _names(e[1]) == _names(t[1])


def _tiny_swin(lib, v2, p=0.1, window=3):
    extra = {'block': lib.swin_transformer.SwinTransformerBlockV2,
             'downsample_layer': lib.swin_transformer.PatchMergingV2} if v2 else {}
    return lib.SwinTransformer(patch_size=[2, 2], embed_dim=8, depths=[2, 2], num_heads=[2, 4], window_size=[window, window],
                               stochastic_depth_prob=3 * p, dropout=p, attention_dropout=p, num_classes=5, **extra)


@pytest.mark.parametrize('v2', [False, True])
def test_tiny_swin_forward_and_training_step_match_torchvision(v2):
    """18x18 images: 9x9 tokens padded to whole 3x3 windows, shifted windows with their mask, an odd-sized
    patch merging; training mode draws dropout and stochastic depth from the same stream as torch."""
    torch.manual_seed(0)
    t = _tiny_swin(tv.models, v2)
    e = _tiny_swin(emodels, v2)
    assert _layout(e) == _layout(t) and repr(e) == repr(t)
    _forward_and_train_match(e, t, _x((2, 3, 18, 18)))
    attn = 'features.1.1.attn.'
    names = [attn + 'logit_scale'] if v2 else [attn + 'relative_position_bias_table']
    # 6x6 images: 3x3 tokens in 2x2 windows, padded and shifted
    _finite_differences(_tiny_swin(emodels, v2, p=0.0, window=2), _x((1, 3, 6, 6), seed=3),
                        names + [attn + 'qkv.bias', 'features.2.norm.weight'])


def test_swin_shift_is_dropped_where_one_window_covers_the_side():
    """A 7x7 window over a 4x9 map: no roll along the height (one window covers it), a 3-column roll along
    the width, as torchvision's functional form does."""
    sw_e, sw_t = emodels.swin_transformer, tv.models.swin_transformer
    torch.manual_seed(1)
    t = sw_t.ShiftedWindowAttention(8, [7, 7], [3, 3], 2)
    e = sw_e.ShiftedWindowAttention(8, [7, 7], [3, 3], 2)
    _copy_weights(e, t)
    x = _x((2, 4, 9, 8))
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tout, eout = t(tx), e(ex)
    assert_same(eout, tout, atol=1e-5, rtol=1e-4)
    tout.pow(2).sum().backward()
    eout.pow(2).sum().backward()
    assert_same(ex.grad, tx.grad, atol=1e-5, rtol=1e-4)
    assert_same(e.relative_position_bias_table.grad, t.relative_position_bias_table.grad, atol=1e-5, rtol=1e-4)
