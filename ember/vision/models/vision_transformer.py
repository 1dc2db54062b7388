"""Vision Transformer (ViT-B/16, B/32, L/16, L/32, H/14) with torchvision's module names
(``encoder.layers.encoder_layer_N...``), initialisation and weights enums."""
import math
from collections import OrderedDict
from functools import partial
from typing import Callable, NamedTuple

import ember
from ember import nn

from ..ops.misc import MLP, Conv2dNormActivation
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, _ovewrite_named_param, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['VisionTransformer', 'ViT_B_16_Weights', 'ViT_B_32_Weights', 'ViT_L_16_Weights', 'ViT_L_32_Weights',
           'ViT_H_14_Weights', 'vit_b_16', 'vit_b_32', 'vit_l_16', 'vit_l_32', 'vit_h_14']


class ConvStemConfig(NamedTuple):
    out_channels: int
    kernel_size: int
    stride: int
    norm_layer: Callable = nn.BatchNorm2d
    activation_layer: Callable = nn.ReLU


def _check(cond, msg):
    """``torch._assert``: an AssertionError with ``msg`` unless ``cond``."""
    if not cond:
        raise AssertionError(msg)


class MLPBlock(MLP):
    """Transformer MLP block: Linear, GELU, Dropout, Linear, Dropout (Xavier weights, N(0, 1e-6) biases)."""

    _version = 2

    def __init__(self, in_dim, mlp_dim, dropout):
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, inplace=None, dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Checkpoints from before version 2 named the linear layers ``linear_1``/``linear_2``."""
        version = local_metadata.get('version', None)
        if version is None or version < 2:
            for i in range(2):
                for kind in ('weight', 'bias'):
                    old = f'{prefix}linear_{i + 1}.{kind}'
                    if old in state_dict:
                        state_dict[f'{prefix}{3 * i}.{kind}'] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class EncoderBlock(nn.Module):
    """Pre-norm transformer encoder block: self-attention then the MLP, each added back to its input."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads, dropout=attention_dropout,
                                                    batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):
        _check(input.dim() == 3, f'Expected (batch_size, seq_length, hidden_dim) got {input.shape}')
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learned position embedding, dropout, the encoder blocks and a final norm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.pos_embedding = nn.Parameter(ember.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f'encoder_layer_{i}', EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                                                norm_layer)) for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):
        _check(input.dim() == 3, f'Expected (batch_size, seq_length, hidden_dim) got {input.shape}')
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """Vision Transformer (https://arxiv.org/abs/2010.11929): patches projected by a strided convolution
    (or a convolution stem), a class token, the encoder, and a linear head on the class token."""

    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, dropout=0.0,
                 attention_dropout=0.0, num_classes=1000, representation_size=None,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6), conv_stem_configs=None):
        super().__init__()
        _check(image_size % patch_size == 0, 'Input shape indivisible by patch size!')
        self.image_size, self.patch_size, self.hidden_dim, self.mlp_dim = image_size, patch_size, hidden_dim, mlp_dim
        self.attention_dropout, self.dropout, self.num_classes = attention_dropout, dropout, num_classes
        self.representation_size, self.norm_layer = representation_size, norm_layer
        if conv_stem_configs is not None:
            self.conv_proj = self._conv_stem(conv_stem_configs, hidden_dim)
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(ember.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                               norm_layer)
        self.seq_length = seq_length
        if representation_size is None:
            heads = OrderedDict(head=nn.Linear(hidden_dim, num_classes))
        else:
            heads = OrderedDict(pre_logits=nn.Linear(hidden_dim, representation_size), act=nn.Tanh(),
                                head=nn.Linear(representation_size, num_classes))
        self.heads = nn.Sequential(heads)
        self._init_weights()

    @staticmethod
    def _conv_stem(configs, hidden_dim):
        stem, prev = nn.Sequential(), 3
        for i, c in enumerate(configs):
            stem.add_module(f'conv_bn_relu_{i}', Conv2dNormActivation(
                in_channels=prev, out_channels=c.out_channels, kernel_size=c.kernel_size, stride=c.stride,
                norm_layer=c.norm_layer, activation_layer=c.activation_layer))
            prev = c.out_channels
        stem.add_module('conv_last', nn.Conv2d(prev, hidden_dim, kernel_size=1))
        return stem

    def _init_weights(self):
        """Truncated-normal patch projection (std 1/sqrt(fan_in)), zero head, as torchvision initialises."""
        if isinstance(self.conv_proj, nn.Conv2d):
            fan_in = self.conv_proj.in_channels * self.conv_proj.kernel_size[0] * self.conv_proj.kernel_size[1]
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            if self.conv_proj.bias is not None:
                nn.init.zeros_(self.conv_proj.bias)
        elif isinstance(getattr(self.conv_proj, 'conv_last', None), nn.Conv2d):
            last = self.conv_proj.conv_last
            nn.init.normal_(last.weight, mean=0.0, std=math.sqrt(2.0 / last.out_channels))
            if last.bias is not None:
                nn.init.zeros_(last.bias)
        if isinstance(getattr(self.heads, 'pre_logits', None), nn.Linear):
            nn.init.trunc_normal_(self.heads.pre_logits.weight, std=math.sqrt(1 / self.heads.pre_logits.in_features))
            nn.init.zeros_(self.heads.pre_logits.bias)
        if isinstance(self.heads.head, nn.Linear):
            nn.init.zeros_(self.heads.head.weight)
            nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        """(N, C, H, W) images to (N, patches, hidden_dim) tokens."""
        n, _, h, w = x.shape
        _check(h == self.image_size, f'Wrong image height! Expected {self.image_size} but got {h}!')
        _check(w == self.image_size, f'Wrong image width! Expected {self.image_size} but got {w}!')
        p = self.patch_size
        x = self.conv_proj(x).reshape(n, self.hidden_dim, (h // p) * (w // p))
        return x.permute(0, 2, 1)

    def forward(self, x):
        x = self._process_input(x)
        x = ember.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.heads(self.encoder(x)[:, 0])


def _vision_transformer(patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights, kwargs):
    """Build a ViT; pretrained weights fix ``image_size`` to their resolution."""
    if weights is not None:
        _ovewrite_named_param(kwargs, 'image_size', weights.meta['min_size'][0])
    return VisionTransformer(image_size=kwargs.pop('image_size', 224), patch_size=patch_size, num_layers=num_layers,
                             num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs)


_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#'
_SWAG = {'recipe': 'https://github.com/facebookresearch/SWAG',
         'license': 'https://github.com/facebookresearch/SWAG/blob/main/LICENSE'}
_SWAG_LINEAR_RECIPE = 'https://github.com/pytorch/vision/pull/5793'
_DEIT_DOCS = ("These weights were trained from scratch by using a modified version of `DeIT "
              "<https://arxiv.org/abs/2012.12877>`_'s training recipe.")
_NEW_RECIPE_DOCS = ("These weights were trained from scratch by using a modified version of TorchVision's `new "
                    "training recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-"
                    "torchvision-latest-primitives/>`_.")
_SWAG_E2E_DOCS = ("These weights are learnt via transfer learning by end-to-end fine-tuning the original `SWAG "
                  "<https://arxiv.org/abs/2201.08371>`_ weights on ImageNet-1K data.")
_SWAG_LINEAR_DOCS = ("These weights are composed of the original frozen `SWAG <https://arxiv.org/abs/2201.08371>`_ "
                     "trunk weights and a linear classifier learnt on top of them trained on ImageNet-1K data.")


def _weights(url, transforms, num_params, acc1, acc5, ops, file_size, docs, meta):
    """One ``Weights`` entry: ImageNet categories, ``meta`` (min_size, recipe...), metrics and docs, with the
    keys in torchvision's order (SWAG's recipe and license come before the parameter count)."""
    swag = {k: meta.pop(k) for k in ('recipe', 'license')} if 'license' in meta else {}
    return Weights(url=url, transforms=transforms, meta={
        'categories': _IMAGENET_CATEGORIES, **swag, 'num_params': num_params, **meta,
        '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': file_size,
        '_docs': docs})


class ViT_B_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/vit_b_16-c867db91.pth',
        partial(ImageClassification, crop_size=224),
        86567656, 81.072, 95.318, 17.564, 330.285,
        _DEIT_DOCS,
        {'min_size': (224, 224), 'recipe': _RECIPE + 'vit_b_16'})
    IMAGENET1K_SWAG_E2E_V1 = _weights(
        'https://download.pytorch.org/models/vit_b_16_swag-9ac1b537.pth',
        partial(ImageClassification, crop_size=384, resize_size=384, interpolation=InterpolationMode.BICUBIC),
        86859496, 85.304, 97.65, 55.484, 331.398,
        _SWAG_E2E_DOCS,
        {**_SWAG, 'min_size': (384, 384)})
    IMAGENET1K_SWAG_LINEAR_V1 = _weights(
        'https://download.pytorch.org/models/vit_b_16_lc_swag-4e70ced5.pth',
        partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        86567656, 81.886, 96.18, 17.564, 330.285,
        _SWAG_LINEAR_DOCS,
        {**_SWAG, 'recipe': _SWAG_LINEAR_RECIPE, 'min_size': (224, 224)})
    DEFAULT = IMAGENET1K_V1


class ViT_B_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/vit_b_32-d86f8d99.pth',
        partial(ImageClassification, crop_size=224),
        88224232, 75.912, 92.466, 4.409, 336.604,
        _DEIT_DOCS,
        {'min_size': (224, 224), 'recipe': _RECIPE + 'vit_b_32'})
    DEFAULT = IMAGENET1K_V1


class ViT_L_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/vit_l_16-852ce7e3.pth',
        partial(ImageClassification, crop_size=224, resize_size=242),
        304326632, 79.662, 94.638, 61.555, 1161.023,
        _NEW_RECIPE_DOCS,
        {'min_size': (224, 224), 'recipe': _RECIPE + 'vit_l_16'})
    IMAGENET1K_SWAG_E2E_V1 = _weights(
        'https://download.pytorch.org/models/vit_l_16_swag-4f3808c9.pth',
        partial(ImageClassification, crop_size=512, resize_size=512, interpolation=InterpolationMode.BICUBIC),
        305174504, 88.064, 98.512, 361.986, 1164.258,
        _SWAG_E2E_DOCS,
        {**_SWAG, 'min_size': (512, 512)})
    IMAGENET1K_SWAG_LINEAR_V1 = _weights(
        'https://download.pytorch.org/models/vit_l_16_lc_swag-4d563306.pth',
        partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        304326632, 85.146, 97.422, 61.555, 1161.023,
        _SWAG_LINEAR_DOCS,
        {**_SWAG, 'recipe': _SWAG_LINEAR_RECIPE, 'min_size': (224, 224)})
    DEFAULT = IMAGENET1K_V1


class ViT_L_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights(
        'https://download.pytorch.org/models/vit_l_32-c7638314.pth',
        partial(ImageClassification, crop_size=224),
        306535400, 76.972, 93.07, 15.378, 1169.449,
        _DEIT_DOCS,
        {'min_size': (224, 224), 'recipe': _RECIPE + 'vit_l_32'})
    DEFAULT = IMAGENET1K_V1


class ViT_H_14_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _weights(
        'https://download.pytorch.org/models/vit_h_14_swag-80465313.pth',
        partial(ImageClassification, crop_size=518, resize_size=518, interpolation=InterpolationMode.BICUBIC),
        633470440, 88.552, 98.694, 1016.717, 2416.643,
        _SWAG_E2E_DOCS,
        {**_SWAG, 'min_size': (518, 518)})
    IMAGENET1K_SWAG_LINEAR_V1 = _weights(
        'https://download.pytorch.org/models/vit_h_14_lc_swag-c1eb923e.pth',
        partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        632045800, 85.708, 97.73, 167.295, 2411.209,
        _SWAG_LINEAR_DOCS,
        {**_SWAG, 'recipe': _SWAG_LINEAR_RECIPE, 'min_size': (224, 224)})
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


@builder(ViT_B_16_Weights)
def vit_b_16(weights=None, **kwargs):
    """ViT-B/16 (``weights``: ``ViT_B_16_Weights``)."""
    return _vision_transformer(16, 12, 12, 768, 3072, weights, kwargs)


@builder(ViT_B_32_Weights)
def vit_b_32(weights=None, **kwargs):
    """ViT-B/32 (``weights``: ``ViT_B_32_Weights``)."""
    return _vision_transformer(32, 12, 12, 768, 3072, weights, kwargs)


@builder(ViT_L_16_Weights)
def vit_l_16(weights=None, **kwargs):
    """ViT-L/16 (``weights``: ``ViT_L_16_Weights``)."""
    return _vision_transformer(16, 24, 16, 1024, 4096, weights, kwargs)


@builder(ViT_L_32_Weights)
def vit_l_32(weights=None, **kwargs):
    """ViT-L/32 (``weights``: ``ViT_L_32_Weights``)."""
    return _vision_transformer(32, 24, 16, 1024, 4096, weights, kwargs)


@builder(ViT_H_14_Weights)
def vit_h_14(weights=None, **kwargs):
    """ViT-H/14 (``weights``: ``ViT_H_14_Weights``)."""
    return _vision_transformer(14, 32, 16, 1280, 5120, weights, kwargs)
