"""RegNet, Swin, MaxViT and the video models against real torchvision 0.28 (tests/helpers.import_torchvision):
state-dict keys and shapes, parameter counts equal to the weights' num_params, reprs, weights enums, forward
values and training gradients with torchvision's weights copied in, and float64 finite differences."""
import importlib

import numpy as np
import pytest
import torch

import ember
from _isa import pytorch_avx512
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


def _forward_and_train_match(e, t, x, atol=1e-4, double_train=False):
    """With ``t``'s weights in ``e``: eval outputs equal; a train-mode step (same seed for dropout and
    stochastic depth) gives the same output, input gradient and parameter gradients. ``double_train`` runs
    the step in float64 (both models), gradients to 1e-6 of their largest magnitude: where train-mode batch
    norm sees few values, a float32 rounding difference can flip a ReLU at zero and move a gradient by
    percents, and the gradients reach 1e6 (gradients that are zero in exact arithmetic are rounding noise)."""
    _copy_weights(e, t)
    t.eval(), e.eval()
    with torch.no_grad(), ember.no_grad():
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=atol, rtol=1e-4, what='eval forward')
    t.train(), e.train()
    if double_train:
        t, e, x, atol = t.double(), e.double(), x.astype(np.float64), 1e-9
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
    tparams = dict(t.named_parameters())
    for k, eg, tg in [('input', ex.grad, tx.grad)] + [(k, p.grad, tparams[k].grad) for k, p in e.named_parameters()]:
        # (AVX2 PyTorch's float64 conv BLAS sums in another order: r2plus1d's grads 2.9e-6 of max|grad| off there)
        rel = 1e-6 if pytorch_avx512() else 4e-6
        assert_same(eg, tg, atol=rel * float(tg.abs().max()) + 1e-12 if double_train else atol, rtol=1e-3,
                    what=f'grad of {k}')


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


def _finite_differences(model, x, names, wrt_input=True):
    """float64 central differences of the training loss agree with backward for the input (unless
    ``wrt_input`` is False) and the parameters ``names`` (the others held fixed)."""
    model = model.double().train()
    params = dict(model.named_parameters())
    fixed = {k: v.detach() for k, v in params.items() if k not in names}
    x = ember.tensor(x.astype(np.float64), requires_grad=wrt_input)

    def loss(*chosen):
        inp, chosen = (chosen[0], chosen[1:]) if wrt_input else (x, chosen)
        out = ember.func.functional_call(model, {**fixed, **dict(zip(names, chosen))}, (inp,))
        return (out * ember.linspace(-1, 1, out.numel(), dtype=ember.float64).reshape(out.shape)).sum()

    inputs = ([x] if wrt_input else []) + [params[k].detach().clone().requires_grad_() for k in names]
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
    return lib.SwinTransformer(patch_size=[2, 2], embed_dim=8, depths=[2, 2], num_heads=[2, 4],
                               window_size=[window, window],
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


# --- MaxViT ---

def test_maxvit_t_init_layout_and_weights_enum_match_torchvision():
    e, _ = _same_init('maxvit_t')
    assert _num_params(e) == emodels.MaxVit_T_Weights.DEFAULT.meta['num_params']
    _same_weights_enum('maxvit_t')
    for lib in (tv.models, emodels):
        with pytest.raises(ValueError, match=r"The parameter 'input_size' expected value \(224, 224\)"):
            lib.maxvit_t(weights='DEFAULT', input_size=(448, 448))
        with pytest.raises(ValueError, match='is not divisible by partition size 7'):
            lib.maxvit_t(input_size=(200, 200))


def _tiny_maxvit(lib, p=0.1):
    return lib.MaxVit(input_size=(32, 32), stem_channels=8, partition_size=2, block_channels=[8, 16],
                      block_layers=[1, 2], head_dim=4, stochastic_depth_prob=3 * p, mlp_dropout=p,
                      attention_dropout=p, num_classes=5)


def test_tiny_maxvit_forward_and_training_step_match_torchvision():
    """Window and grid attention over 8x8 then 4x4 maps in 2x2 partitions, MBConv with and without
    projection; training mode draws dropout and stochastic depth from the same stream as torch."""
    torch.manual_seed(0)
    t = _tiny_maxvit(tv.models)
    e = _tiny_maxvit(emodels)
    assert _layout(e) == _layout(t) and repr(e) == repr(t)
    _forward_and_train_match(e, t, _x((2, 3, 32, 32)))
    layer = 'blocks.1.layers.1.layers.'
    _finite_differences(_tiny_maxvit(emodels, p=0.0), _x((2, 3, 32, 32), seed=3),
                        [layer + 'grid_attention.attn_layer.1.relative_position_bias_table',
                         layer + 'MBconv.layers.squeeze_excitation.fc1.bias', 'classifier.2.weight'],
                        wrt_input=False)


# --- video: R3D, MC3, R(2+1)D, S3D ---

VIDEO = ['r3d_18', 'mc3_18', 'r2plus1d_18', 's3d']


@pytest.mark.parametrize('name', VIDEO)
def test_video_model_init_layout_and_weights_enum_match_torchvision(name):
    e, _ = _same_init(name)
    assert _num_params(e) == emodels.get_model_weights(name).DEFAULT.meta['num_params']
    _same_weights_enum(name)


@pytest.mark.parametrize('name', ['r3d_18', 'mc3_18'])
def test_video_resnet_eval_forward_matches_torchvision(name):
    torch.manual_seed(0)
    t = tv.models.get_model(name, num_classes=5).eval()
    e = emodels.get_model(name, num_classes=5).eval()
    _copy_weights(e, t)
    x = _x((1, 3, 4, 16, 16))
    with torch.no_grad(), ember.no_grad():
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-4, rtol=1e-4)


def test_r2plus1d_18_forward_and_training_step_match_torchvision():
    """4-frame 16x16 clips, two of them: eval forward, then a float64 training step (its batch norms see 2
    values per channel in the last stage)."""
    torch.manual_seed(0)
    t = tv.models.video.r2plus1d_18(num_classes=5)
    e = emodels.video.r2plus1d_18(num_classes=5)
    _forward_and_train_match(e, t, _x((2, 3, 4, 16, 16)), atol=2e-4, double_train=True)


def test_s3d_forward_and_training_step_match_torchvision():
    """S3D's fixed 2x7x7 pooling needs 14-frame 224x224 clips: both models pool adaptively here so that
    8-frame 32x32 clips run every block (dropout before the classifier draws from the same stream); the
    training step in float64."""
    torch.manual_seed(0)
    t = tv.models.video.s3d(num_classes=5)
    e = emodels.video.s3d(num_classes=5)
    t.avgpool, e.avgpool = torch.nn.AdaptiveAvgPool3d(1), ember.nn.AdaptiveAvgPool3d(1)
    _forward_and_train_match(e, t, _x((2, 3, 8, 32, 32)), atol=2e-4, double_train=True)


@pytest.mark.parametrize('conv', ['Conv3DSimple', 'Conv3DNoTemporal', 'Conv2Plus1D'])
def test_video_resnet_blocks_finite_differences(conv):
    """A strided BasicBlock with its projection shortcut, built with each convolution maker, in float64."""
    resnet = emodels.video.resnet
    maker = getattr(resnet, conv)
    down = ember.nn.Sequential(ember.nn.Conv3d(3, 4, kernel_size=1, stride=maker.get_downsample_stride(2),
                                               bias=False), ember.nn.BatchNorm3d(4))
    block = resnet.BasicBlock(3, 4, maker, stride=2, downsample=down)
    _finite_differences(block, _x((2, 3, 4, 4, 4)), ['conv1.0.weight' if conv != 'Conv2Plus1D' else
                                                     'conv1.0.0.weight', 'conv2.1.weight', 'downsample.1.bias'])


def test_s3d_inception_block_finite_differences():
    s3d = importlib.import_module('ember.vision.models.video.s3d')   # the name ``s3d`` is the builder
    block = s3d.SepInceptionBlock3D(3, 2, 2, 3, 2, 2, 2, ember.nn.BatchNorm3d)
    _finite_differences(block, _x((2, 3, 3, 4, 4)), ['branch1.1.0.0.weight', 'branch3.1.1.bias'])


def test_video_classification_transform_matches_torchvision():
    """On float clips; uint8 clips can differ by one level where torch's integer bilinear kernel rounds
    differently from a float interpolation (27 of 112896 values here)."""
    clip = np.random.default_rng(2).random((3, 3, 40, 50)).astype(np.float32)
    for name in ('r3d_18', 's3d'):
        et = emodels.get_model_weights(name).DEFAULT.transforms()
        tt = tv.models.get_model_weights(name).DEFAULT.transforms()
        assert repr(et) == repr(tt) and et.describe() == tt.describe()
        assert_same(et(ember.tensor(clip)), tt(torch.tensor(clip)), atol=5e-5, rtol=0)
        assert_same(et(ember.tensor(clip[None])), tt(torch.tensor(clip[None])), atol=5e-5, rtol=0)


# --- the registry ---

NEW = REGNETS + SWINS + ['maxvit_t'] + VIDEO


def test_registry_covers_the_new_models_as_torchvision():
    listed = emodels.list_models()
    for name in NEW:
        assert name in listed and name in tv.models.list_models()
        assert emodels.get_model_weights(name).__name__ == tv.models.get_model_weights(name).__name__
    assert emodels.list_models(module=emodels.video) == ['mc3_18', 'r2plus1d_18', 'r3d_18', 's3d']
    assert set(emodels.list_models(module=emodels.video)) <= set(tv.models.list_models(module=tv.models.video))
    assert emodels.list_models(include='swin_v2*') == tv.models.list_models(include='swin_v2*')
    assert emodels.list_models(include='regnet_x*') == tv.models.list_models(include='regnet_x*')
    assert emodels.get_weight('R3D_18_Weights.KINETICS400_V1') is emodels.video.R3D_18_Weights.KINETICS400_V1
    assert emodels.get_weight('Swin_V2_B_Weights.DEFAULT') is emodels.Swin_V2_B_Weights.IMAGENET1K_V1
    assert type(emodels.get_model('s3d', num_classes=3)).__name__ == 'S3D'


def test_video_legacy_pretrained_means_the_kinetics_weights():
    for lib in (tv.models.video, emodels.video):
        with pytest.warns(UserWarning) as record:
            with pytest.raises(ValueError, match="'num_classes' expected value 400 but got 3 instead."):
                lib.r3d_18(pretrained=True, num_classes=3)
        messages = [str(w.message) for w in record]
        assert "'pretrained' is deprecated" in messages[0]
        assert 'equivalent to passing `weights=R3D_18_Weights.KINETICS400_V1`' in messages[1]


@pytest.mark.parametrize('transposed', [False, True])
def test_dense_conv_backward_with_only_some_inputs_requiring_grad(transposed):
    """A convolution that is one product of the flattened samples (kernel the size of the input, as SE's 1x1
    convolutions on pooled maps; a transposed one from 1x1 inputs) differentiates whichever of input, weight
    and bias require grad (only the bias, in a model whose earlier parameters are frozen, used to raise)."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((2, 3, 1, 1) if transposed else (2, 3, 2, 2)).astype(np.float32)
    wa = rng.standard_normal((3, 4, 2, 2) if transposed else (4, 3, 2, 2)).astype(np.float32)
    ba = rng.standard_normal(4).astype(np.float32)
    for req in [(False, False, True), (False, True, False), (True, False, False), (True, True, True)]:
        grads = []
        for lib in (ember, torch):
            x, w, b = (lib.tensor(a, requires_grad=r) for a, r in zip((xa, wa, ba), req))
            conv = lib.nn.functional.conv_transpose2d if transposed else lib.nn.functional.conv2d
            (conv(x, w, b) ** 2).sum().backward()
            grads.append([t.grad for t in (x, w, b)])
        for e, t in zip(*grads):
            assert (e is None) == (t is None)
            if t is not None:
                assert_same(e, t, atol=1e-5, rtol=1e-5)
