"""torchvision.models architectures: state-dict keys and shapes as torchvision's, forward and gradients equal
to a PyTorch reference built from torch.nn with torchvision's structure, .pth loading, weights enums."""
import math
import os
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
import torch.nn as tnn

import ember
from ember.vision import models


# --- PyTorch references, written from torchvision's source layout with torch.nn primitives only ---

class RefBasic(tnn.Module):
    expansion = 1

    def __init__(self, inp, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class RefBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1, downsample=None, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = tnn.Conv2d(inp, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class RefResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, **width):
        super().__init__()
        self.inplanes, self.width = 64, width
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            setattr(self, f'layer{i + 1}', self._layer(block, planes, n, 1 if i == 0 else 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _layer(self, block, planes, n, stride):
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                  tnn.BatchNorm2d(planes * block.expansion))
        blocks = [block(self.inplanes, planes, stride, down, **self.width)]
        self.inplanes = planes * block.expansion
        blocks += [block(self.inplanes, planes, **self.width) for _ in range(1, n)]
        return tnn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


VGG_CFGS = {11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
            13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
            16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
            19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512,
                 512, 'M']}


def ref_vgg_features(depth, bn):
    layers, c = [], 3
    for v in VGG_CFGS[depth]:
        if v == 'M':
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(c, v, 3, padding=1)] + ([tnn.BatchNorm2d(v)] if bn else []) + [tnn.ReLU(True)]
            c = v
    return tnn.Sequential(*layers)


class RefAlexNet(tnn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(True), tnn.MaxPool2d(3, 2), tnn.Conv2d(64, 192, 5, padding=2),
            tnn.ReLU(True), tnn.MaxPool2d(3, 2), tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(True),
            tnn.Conv2d(384, 256, 3, padding=1), tnn.ReLU(True), tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(True),
            tnn.MaxPool2d(3, 2))
        self.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
        self.classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(9216, 4096), tnn.ReLU(True), tnn.Dropout(),
                                         tnn.Linear(4096, 4096), tnn.ReLU(True), tnn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def ref_cna(cin, cout, k=3, stride=1, groups=1):
    """torchvision.ops.Conv2dNormActivation with ReLU6: a Sequential numbered 0, 1, 2."""
    return tnn.Sequential(tnn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                          tnn.BatchNorm2d(cout), tnn.ReLU6(inplace=True))


class RefInvRes(tnn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.res = stride == 1 and inp == oup
        layers = ([ref_cna(inp, hidden, 1)] if t != 1 else []) + [
            ref_cna(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            tnn.BatchNorm2d(oup)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


MOBILENET_V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                        [6, 160, 3, 2], [6, 320, 1, 1]]


class RefMobileNetV2(tnn.Module):
    def __init__(self, num_classes=1000, setting=MOBILENET_V2_SETTING):
        super().__init__()
        feats, c_in = [ref_cna(3, 32, stride=2)], 32
        for t, c, n, s in setting:
            for i in range(n):
                feats.append(RefInvRes(c_in, c, s if i == 0 else 1, t))
                c_in = c
        feats.append(ref_cna(c_in, 1280, 1))
        self.features = tnn.Sequential(*feats)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

    def forward(self, x):
        x = torch.nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# --- helpers ---

def layout(sd):
    return [(k, tuple(v.shape)) for k, v in sd.items()]


def copy_into(ember_model, torch_model):
    """Give the ember model the torch model's parameters and buffers through a strict state-dict load."""
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in torch_model.state_dict().items()}
    result = ember_model.load_state_dict(sd)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []


def randomize_bn(torch_model, seed=0):
    """Non-trivial BN affine parameters and running stats so that eval mode tests them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.2, 0.2, generator=g)
                m.running_mean.uniform_(-0.1, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)


def compare_forward_backward(ember_model, torch_model, shape, train, atol=2e-4):
    """Same output, same gradient for every parameter, and (in train mode) same BN running stats. Train
    mode runs in float64: batch norm over 2 images of 1x1 maps amplifies float32 rounding past any tolerance."""
    ember_model.train(train)
    torch_model.train(train)
    dtype = np.float64 if train else np.float32
    if train:
        ember_model.double()
        torch_model.double()
        atol = 1e-9
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tout = torch_model(torch.tensor(x))
    eout = ember_model(ember.tensor(x))
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), atol=atol, rtol=1e-3)
    seed = np.random.default_rng(1).standard_normal(tuple(tout.shape)).astype(dtype)
    (tout * torch.tensor(seed)).sum().backward()
    (eout * ember.tensor(seed)).sum().backward()
    tparams = dict(torch_model.named_parameters())
    for name, p in ember_model.named_parameters():
        scale = max(1.0, float(tparams[name].grad.abs().max()))
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), atol=atol * scale, rtol=1e-3,
                                   err_msg=f'grad of {name}')
    tbufs = dict(torch_model.named_buffers())
    for name, b in ember_model.named_buffers():
        np.testing.assert_allclose(b.numpy(), tbufs[name].numpy(), atol=atol, rtol=1e-4, err_msg=name)


# --- structure ---

@pytest.mark.parametrize('name, ref', [
    ('resnet18', lambda: RefResNet(RefBasic, [2, 2, 2, 2])),
    ('resnet34', lambda: RefResNet(RefBasic, [3, 4, 6, 3])),
    ('resnet50', lambda: RefResNet(RefBottleneck, [3, 4, 6, 3])),
    ('resnet101', lambda: RefResNet(RefBottleneck, [3, 4, 23, 3])),
    ('resnet152', lambda: RefResNet(RefBottleneck, [3, 8, 36, 3])),
    ('mobilenet_v2', RefMobileNetV2),
    ('resnext50_32x4d', lambda: RefResNet(RefBottleneck, [3, 4, 6, 3], groups=32, base_width=4)),
    ('wide_resnet50_2', lambda: RefResNet(RefBottleneck, [3, 4, 6, 3], base_width=128)),
])
def test_state_dict_layout_matches_torchvision(name, ref):
    assert layout(models.get_model(name).state_dict()) == layout(ref().state_dict())


@pytest.mark.parametrize('depth', [11, 13, 16, 19])
@pytest.mark.parametrize('bn', [False, True])
def test_vgg_features_layout(depth, bn):
    from ember.vision.models import vgg
    cfg = {11: 'A', 13: 'B', 16: 'D', 19: 'E'}[depth]
    ours = vgg.make_layers(vgg.cfgs[cfg], batch_norm=bn)
    assert layout(ours.state_dict()) == layout(ref_vgg_features(depth, bn).state_dict())


def classifier_layout(sizes):
    """Keys and shapes of a classifier Sequential whose Linear layers sit at the given indices."""
    return [(f'classifier.{i}.{k}', (o, n) if k == 'weight' else (o,)) for i, n, o in sizes for k in ('weight', 'bias')]


def test_builders_registered():
    names = ['vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn']
    assert all(models.get_model_builder(n).__name__ == n for n in names)


def test_repr_and_classes():
    m = models.mobilenet_v2(num_classes=3)
    assert type(m.features[0]).__name__ == 'Conv2dNormActivation' and m.features[0].out_channels == 32
    assert type(m.features[1]).__name__ == 'InvertedResidual'
    r = models.resnet50(num_classes=5)
    assert isinstance(r.layer1[0], models.Bottleneck) and r.fc.out_features == 5
    assert isinstance(models.resnet18().layer1[0], models.BasicBlock)
    assert repr(r.layer1[0].conv2) == repr(RefResNet(RefBottleneck, [1, 1, 1, 1]).layer1[0].conv2)


# --- numerics against the PyTorch reference ---

@pytest.mark.parametrize('train', [True, False])
def test_resnet18_forward_backward(train):
    torch.manual_seed(0)
    ref = RefResNet(RefBasic, [2, 2, 2, 2], num_classes=10)
    randomize_bn(ref)
    ours = models.resnet18(num_classes=10)
    copy_into(ours, ref)
    compare_forward_backward(ours, ref, (2, 3, 32, 32), train)


def test_resnext_grouped_bottleneck_forward_backward():
    torch.manual_seed(5)
    ref = RefResNet(RefBottleneck, [1, 1, 1, 1], num_classes=4, groups=4, base_width=8)
    randomize_bn(ref, 5)
    ours = models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=4, groups=4, width_per_group=8)
    copy_into(ours, ref)
    compare_forward_backward(ours, ref, (2, 3, 32, 32), True)
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 2 instead."):
        models.resnext50_32x4d(groups=2)
    for name in ('resnext101_32x8d', 'resnext101_64x4d', 'wide_resnet101_2'):
        assert models.get_model_weights(name).DEFAULT.meta['num_params'] > 8e7


def test_resnet50_bottleneck_forward_backward():
    torch.manual_seed(1)
    ref = RefResNet(RefBottleneck, [1, 1, 1, 1], num_classes=4)
    randomize_bn(ref, 1)
    ours = models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=4)
    copy_into(ours, ref)
    compare_forward_backward(ours, ref, (2, 3, 32, 32), True)


@pytest.mark.parametrize('train', [True, False])
def test_mobilenet_v2_forward_backward(train):
    """Eval mode on the full network; train mode (float64, where PyTorch's depthwise backward is slow) on
    the first stages."""
    torch.manual_seed(2)
    setting = MOBILENET_V2_SETTING[:3] if train else MOBILENET_V2_SETTING
    ref = RefMobileNetV2(num_classes=10, setting=setting)
    randomize_bn(ref, 2)
    ours = models.mobilenet_v2(num_classes=10, inverted_residual_setting=setting)
    copy_into(ours, ref)
    if train:  # dropout draws differ between libraries: compare with it switched off
        ours.classifier[0].p = ref.classifier[0].p = 0.0
    compare_forward_backward(ours, ref, (2, 3, 32, 32), train)


def shrink_classifier(ember_model, torch_model, indices, width=16):
    """Narrow the 4096-wide hidden layers of both models alike, to keep the test fast (the full classifier's
    layout is checked above)."""
    for model, lib in ((ember_model, ember.nn), (torch_model, tnn)):
        first, second, last = (model.classifier[i] for i in indices)
        model.classifier[indices[0]] = lib.Linear(first.in_features, width)
        model.classifier[indices[1]] = lib.Linear(width, width)
        model.classifier[indices[2]] = lib.Linear(width, last.out_features)


def test_vgg11_bn_layout_init_forward_backward():
    """One model (VGG's 100M-weight classifier is slow to build): layout, initialisation, then numerics."""
    ours = models.vgg11_bn(num_classes=10, dropout=0.3)
    assert ours.classifier[2].p == ours.classifier[5].p == 0.3
    features = [('features.' + k, v) for k, v in layout(ref_vgg_features(11, True).state_dict())]
    expected = features + classifier_layout([(0, 25088, 4096), (3, 4096, 4096), (6, 4096, 10)])
    assert layout(ours.state_dict()) == expected
    check_vgg_init(ours)
    torch.manual_seed(3)
    ref = tnn.Module()
    ref.features, ref.avgpool = ref_vgg_features(11, True), tnn.AdaptiveAvgPool2d((7, 7))
    ref.classifier = tnn.Sequential(tnn.Linear(25088, 1), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(1, 1),
                                    tnn.ReLU(True), tnn.Dropout(), tnn.Linear(1, 10))
    ref.forward = lambda x: ref.classifier(torch.flatten(ref.avgpool(ref.features(x)), 1))
    randomize_bn(ref, 3)
    shrink_classifier(ours, ref, (0, 3, 6))
    copy_into(ours, ref)
    compare_forward_backward(ours, ref, (2, 3, 32, 32), False)


def test_alexnet_layout_forward():
    ours = models.alexnet(num_classes=10)
    ref_features = RefAlexNet().features
    features = [('features.' + k, v) for k, v in layout(ref_features.state_dict())]
    expected = features + classifier_layout([(1, 9216, 4096), (4, 4096, 4096), (6, 4096, 10)])
    assert layout(ours.state_dict()) == expected
    torch.manual_seed(4)
    ref = tnn.Module()
    ref.features, ref.avgpool = ref_features, tnn.AdaptiveAvgPool2d((6, 6))
    ref.classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(9216, 1), tnn.ReLU(True), tnn.Dropout(),
                                    tnn.Linear(1, 1), tnn.ReLU(True), tnn.Linear(1, 10))
    ref.forward = lambda x: ref.classifier(torch.flatten(ref.avgpool(ref.features(x)), 1))
    shrink_classifier(ours, ref, (1, 4, 6))
    copy_into(ours, ref)
    compare_forward_backward(ours, ref, (1, 3, 63, 63), False)


def test_pytorch_pth_loads_strict(tmp_path):
    ref = RefResNet(RefBasic, [2, 2, 2, 2])
    path = tmp_path / 'resnet18.pth'
    torch.save(ref.state_dict(), path)
    ours = models.resnet18()
    ours.load_state_dict(ember.load(path))
    np.testing.assert_array_equal(ours.layer3[1].conv2.weight.detach().numpy(), ref.layer3[1].conv2.weight.detach().numpy())
    assert int(ours.bn1.num_batches_tracked) == 0


# --- initialisation ---

def test_resnet_init_scheme():
    ember.manual_seed(0)
    m = models.resnet18(zero_init_residual=True)
    std = float(m.conv1.weight.std())
    assert abs(std - math.sqrt(2.0 / (64 * 49))) < 0.05 * std  # kaiming normal, fan_out, relu gain
    assert bool((m.bn1.weight == 1).all()) and bool((m.bn1.bias == 0).all())
    assert bool((m.layer1[0].bn2.weight == 0).all()) and bool((m.layer1[0].bn1.weight == 1).all())
    bound = 1 / math.sqrt(512)
    assert float(m.fc.weight.abs().max()) <= bound and float(m.fc.weight.std()) > 0.5 * bound / math.sqrt(3)
    b = models.resnet50(zero_init_residual=True)
    assert bool((b.layer2[1].bn3.weight == 0).all()) and bool((b.layer2[1].bn2.weight == 1).all())


def test_mobilenet_and_vgg_init_scheme():
    m = models.mobilenet_v2()
    w = m.classifier[1].weight
    assert abs(float(w.std()) - 0.01) < 0.001 and bool((m.classifier[1].bias == 0).all())
    conv = m.features[18][0]
    assert abs(float(conv.weight.std()) - math.sqrt(2.0 / 1280)) < 0.05 * math.sqrt(2.0 / 1280)


def check_vgg_init(vgg11_bn):
    """Kaiming-normal convolutions with zero bias, ones/zeros batch norms, N(0, 0.01) linear layers."""
    assert abs(float(vgg11_bn.classifier[0].weight.std()) - 0.01) < 0.0005
    assert bool((vgg11_bn.features[0].bias == 0).all()) and bool((vgg11_bn.features[1].weight == 1).all())
    std = math.sqrt(2.0 / (512 * 9))
    assert abs(float(vgg11_bn.features[-4].weight.std()) - std) < 0.05 * std


# --- constructor arguments and errors ---

def test_constructor_arguments():
    assert models.resnet18(num_classes=7).eval()(ember.randn(1, 3, 32, 32)).shape == (1, 7)
    m = models.mobilenet_v2(width_mult=0.5, num_classes=3)
    assert m.features[0][0].out_channels == 16 and m.last_channel == 1280
    with pytest.raises(ValueError, match='replace_stride_with_dilation should be None or a 3-element tuple'):
        models.resnet18(replace_stride_with_dilation=[False])
    with pytest.raises(NotImplementedError, match='Dilation > 1 not supported in BasicBlock'):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    d = models.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=2)
    assert d.layer4[0].conv2.dilation == (2, 2) and d.layer4[1].conv2.dilation == (4, 4) and d.layer4[0].conv2.padding == (2, 2)
    with pytest.raises(ValueError, match='Unknown model resnet9'):
        models.get_model('resnet9')
    with pytest.raises(ValueError, match='stride should be 1 or 2 instead of 3'):
        models.mobilenetv2.InvertedResidual(4, 4, 3, 6)


# --- weights enums and the hub cache ---

def test_weights_enum_fields():
    w = models.ResNet18_Weights.DEFAULT
    assert w is models.ResNet18_Weights.IMAGENET1K_V1 and repr(w) == 'ResNet18_Weights.IMAGENET1K_V1'
    assert w.url == 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
    cats = w.meta['categories']
    assert len(cats) == 1000 and cats[0] == 'tench' and cats[281] == 'tabby' and cats[-1] == 'toilet tissue'
    assert w.meta['num_params'] == sum(p.numel() for p in models.resnet18().parameters())
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.MobileNet_V2_Weights.DEFAULT.meta['num_params'] == 3504872
    assert models.get_weight('VGG16_Weights.IMAGENET1K_V1') is models.VGG16_Weights.IMAGENET1K_V1
    assert models.get_model_weights('resnet18') is models.ResNet18_Weights
    assert models.ResNet18_Weights.verify('IMAGENET1K_V1') is w
    with pytest.raises(TypeError, match='expected ResNet18_Weights but received ResNet34_Weights'):
        models.resnet18(weights=models.ResNet34_Weights.DEFAULT)
    assert 'resnet18' in models.list_models() and models.list_models(include='vgg1?_bn') == [
        'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn']


def test_weights_transforms():
    t = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert t.resize_size == [232] and t.crop_size == [224]
    assert 'crop_size=[224]' in repr(t) and 'interpolation=InterpolationMode.BILINEAR' in repr(t)
    img = np.random.default_rng(0).integers(0, 256, (3, 232, 240), dtype=np.uint8)
    out = t(ember.tensor(img))
    crop = img[:, 4:228, 8:232].astype(np.float32) / 255
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    assert out.dtype == ember.float32 and tuple(out.shape) == (3, 224, 224)
    np.testing.assert_allclose(out.numpy(), (crop - mean) / std, rtol=1e-5, atol=1e-5)


def test_weights_load_from_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    ref = RefResNet(RefBasic, [2, 2, 2, 2])
    folder = tmp_path / 'hub' / 'checkpoints'
    folder.mkdir(parents=True)
    torch.save(ref.state_dict(), folder / 'resnet18-f37072fd.pth')
    m = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    np.testing.assert_array_equal(m.fc.weight.detach().numpy(), ref.fc.weight.detach().numpy())
    m = models.resnet18(weights='IMAGENET1K_V1')
    np.testing.assert_array_equal(m.conv1.weight.detach().numpy(), ref.conv1.weight.detach().numpy())
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.resnet18(weights='DEFAULT', num_classes=10)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        m = models.resnet18(pretrained=True)
    np.testing.assert_array_equal(m.fc.bias.detach().numpy(), ref.fc.bias.detach().numpy())


def test_weights_fail_clearly_without_network(tmp_path, monkeypatch):
    """Offline, torchvision's weights raise urlopen's URLError from torch.hub (ember noting where the file goes)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError('no network')

    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    with pytest.raises(urllib.error.URLError) as info:
        models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    path = str(tmp_path / 'hub' / 'checkpoints' / 'mobilenet_v2-7ebf99e0.pth')
    assert type(info.value) is urllib.error.URLError and str(info.value) == '<urlopen error no network>'
    assert any(path in n for n in getattr(info.value, '__notes__', [path]))
    assert os.listdir(tmp_path / 'hub' / 'checkpoints') == []


def test_hub_download_errors_as_pytorchs(tmp_path, monkeypatch, capsys):
    """torch.hub offline (piq's BRISQUE weights): urlopen's own error, URLError or HTTPError, after PyTorch's
    'Downloading' line; ember raised its RuntimeError. No partial file is left."""
    import torch.hub
    import ember.hub
    url = 'https://example.org/brisque_svm_weights.pt'
    for error in (urllib.error.URLError(OSError(-3, 'Temporary failure in name resolution')),
                  urllib.error.HTTPError(url, 404, 'Not Found', {}, None), ValueError('unknown url type: x')):
        def offline(*args, **kwargs):
            raise error
        monkeypatch.setattr(urllib.request, 'urlopen', offline)
        monkeypatch.setattr(torch.hub, 'urlopen', offline)
        seen = []
        for hub in (torch.hub, ember.hub):
            folder = tmp_path / hub.__name__ / type(error).__name__
            with pytest.raises(Exception) as info:
                hub.load_state_dict_from_url(url, model_dir=str(folder), progress=False)
            seen.append((type(info.value), str(info.value), capsys.readouterr().out.replace(hub.__name__, 'H'),
                         os.listdir(folder)))
            with pytest.raises(type(error)) as direct:
                hub.download_url_to_file(url, str(folder / 'f.pt'), progress=False)
            seen.append((type(direct.value), str(direct.value)))
        assert seen[:2] == seen[2:] and seen[0][0] is type(error)


def test_hub_hash_check(tmp_path, monkeypatch):
    """A downloaded file whose sha256 does not start with the name's hash is deleted, as PyTorch does."""
    import ember.hub as hub
    monkeypatch.setattr('ember.vision.datasets.utils._urlretrieve',
                        lambda url, path: open(path, 'wb').write(b'not a checkpoint'))
    with pytest.raises(RuntimeError, match='invalid hash value'):
        hub.load_state_dict_from_url('https://example.org/m-0123abcd.pth', model_dir=str(tmp_path),
                                     check_hash=True)
    assert os.listdir(tmp_path) == []
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'th'))
    assert hub.get_dir() == str(tmp_path / 'th' / 'hub')


SCRIPT = '''
import torch
import torch.nn as nn
import torchvision
from torchvision import datasets, models, transforms
from torchvision.io import read_image, ImageReadMode
from torchvision.models import ResNet18_Weights
from torch.utils.data import DataLoader

torch.manual_seed(0)
tf = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])
data = datasets.ImageFolder("images", transform=tf)
loader = DataLoader(data, batch_size=4, shuffle=False)
model = models.resnet18(weights=None)
model.fc = nn.Linear(model.fc.in_features, len(data.classes))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = next(iter(loader))
losses = []
for _ in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(data.classes, tuple(x.shape), read_image("images/b/0.png", ImageReadMode.GRAY).shape)
print(len(ResNet18_Weights.DEFAULT.meta["categories"]), all(0 < v < 10 for v in losses),
      sum(p.grad is not None for p in model.parameters()))
'''


def test_resnet18_transfer_script_under_ember_run(tmp_path):
    """A tutorial-style script (ImageFolder, read_image, ResNet-18 with a new head, SGD steps) runs
    unmodified under ``ember run``."""
    import subprocess
    import sys
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls in ('a', 'b'):
        (tmp_path / 'images' / cls).mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / 'images' / cls / f'{i}.png')
    (tmp_path / 'train.py').write_text(SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, '-m', 'ember', 'run', 'train.py'], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['a', 'b'] (4, 3, 35, 32) torch.Size([1, 40, 36])", '1000 True 62']
