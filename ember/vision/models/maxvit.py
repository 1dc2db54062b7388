"""MaxViT-T ("MaxViT: Multi-Axis Vision Transformer") with torchvision's module names (``blocks.N.layers.M.layers.
MBconv/window_attention/grid_attention``), initialisation and weights enum: MBConv blocks followed by attention
within local windows and across a sparse grid, each with a relative position bias."""
import math
from collections import OrderedDict
from functools import partial

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, _ovewrite_named_param, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['MaxVit', 'MaxVit_T_Weights', 'maxvit_t']


def _get_conv_output_shape(input_size, kernel_size, stride, padding):
    return tuple((s - kernel_size + 2 * padding) // stride + 1 for s in input_size[:2])


def _make_block_input_shapes(input_size, n_blocks):
    """The feature sizes entering each block: the stem and every block halve the size (3x3, stride 2)."""
    shapes, shape = [], _get_conv_output_shape(input_size, 3, 2, 1)
    for _ in range(n_blocks):
        shape = _get_conv_output_shape(shape, 3, 2, 1)
        shapes.append(shape)
    return shapes


def _get_relative_position_index(height, width):
    """(HW, HW) index of each position pair's offset (dy, dx) in a (2H-1)(2W-1)-row bias table."""
    coords = ember.stack(ember.meshgrid([ember.arange(height), ember.arange(width)], indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    return (rel[:, :, 0] + (height - 1)) * (2 * width - 1) + (rel[:, :, 1] + (width - 1))


class MBConv(nn.Module):
    """Pre-norm inverted bottleneck (1x1, depthwise 3x3 with the stride, squeeze-excitation, 1x1) added to a
    shortcut (average pool and 1x1 projection where the shape changes), with stochastic depth."""

    def __init__(self, in_channels, out_channels, expansion_ratio, squeeze_ratio, stride, activation_layer,
                 norm_layer, p_stochastic_dropout=0.0):
        super().__init__()
        if stride != 1 or in_channels != out_channels:
            proj = [nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, bias=True)]
            if stride == 2:
                proj = [nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)] + proj
            self.proj = nn.Sequential(*proj)
        else:
            self.proj = nn.Identity()
        mid_channels = int(out_channels * expansion_ratio)
        sqz_channels = int(out_channels * squeeze_ratio)
        self.stochastic_depth = (StochasticDepth(p_stochastic_dropout, mode='row') if p_stochastic_dropout
                                 else nn.Identity())
        layers = OrderedDict()
        layers['pre_norm'] = norm_layer(in_channels)
        layers['conv_a'] = Conv2dNormActivation(in_channels, mid_channels, kernel_size=1, stride=1, padding=0,
                                                activation_layer=activation_layer, norm_layer=norm_layer,
                                                inplace=None)
        layers['conv_b'] = Conv2dNormActivation(mid_channels, mid_channels, kernel_size=3, stride=stride, padding=1,
                                                activation_layer=activation_layer, norm_layer=norm_layer,
                                                groups=mid_channels, inplace=None)
        layers['squeeze_excitation'] = SqueezeExcitation(mid_channels, sqz_channels, activation=nn.SiLU)
        layers['conv_c'] = nn.Conv2d(in_channels=mid_channels, out_channels=out_channels, kernel_size=1, bias=True)
        self.layers = nn.Sequential(layers)

    def forward(self, x):
        return self.proj(x) + self.stochastic_depth(self.layers(x))


class RelativePositionalMultiHeadAttention(nn.Module):
    """Multi-head self-attention over the P positions of each of G groups ((B, G, P, D) in and out), with a
    learned relative position bias; the keys are scaled by ``feat_dim ** -0.5``."""

    def __init__(self, feat_dim, head_dim, max_seq_len):
        super().__init__()
        if feat_dim % head_dim != 0:
            raise ValueError(f'feat_dim: {feat_dim} must be divisible by head_dim: {head_dim}')
        self.n_heads = feat_dim // head_dim
        self.head_dim = head_dim
        self.size = int(math.sqrt(max_seq_len))
        self.max_seq_len = max_seq_len
        self.to_qkv = nn.Linear(feat_dim, self.n_heads * self.head_dim * 3)
        self.scale_factor = feat_dim ** -0.5
        self.merge = nn.Linear(self.head_dim * self.n_heads, feat_dim)
        self.relative_position_bias_table = nn.Parameter(
            ember.empty(((2 * self.size - 1) * (2 * self.size - 1), self.n_heads), dtype=ember.float32))
        self.register_buffer('relative_position_index', _get_relative_position_index(self.size, self.size))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def get_relative_positional_bias(self):
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        bias = bias.view(self.max_seq_len, self.max_seq_len, -1).permute(2, 0, 1).contiguous()
        return bias.unsqueeze(0)

    def forward(self, x):
        b, g, p, d = x.shape
        q, k, v = (t.reshape(b, g, p, self.n_heads, self.head_dim).permute(0, 1, 3, 2, 4)
                   for t in ember.chunk(self.to_qkv(x), 3, dim=-1))
        k = k * self.scale_factor
        attn = F.softmax(q @ k.transpose(-2, -1) + self.get_relative_positional_bias(), dim=-1)
        return self.merge((attn @ v).permute(0, 1, 3, 2, 4).reshape(b, g, p, d))


class SwapAxes(nn.Module):
    """``x.swapaxes(a, b)`` as a module."""

    def __init__(self, a, b):
        super().__init__()
        self.a = a
        self.b = b

    def forward(self, x):
        return ember.swapaxes(x, self.a, self.b)


class WindowPartition(nn.Module):
    """(B, C, H, W) to (B, H/P * W/P, P*P, C): non-overlapping P x P windows."""

    def forward(self, x, p):
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(b, (h // p) * (w // p), p * p, c)


class WindowDepartition(nn.Module):
    """(B, HP * WP, P*P, C) windows back to (B, C, HP * P, WP * P)."""

    def forward(self, x, p, h_partitions, w_partitions):
        b, _, _, c = x.shape
        x = x.reshape(b, h_partitions, w_partitions, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, h_partitions * p, w_partitions * p)


class PartitionAttentionLayer(nn.Module):
    """Pre-norm attention and MLP (with stochastic depth) within local windows (``'window'``: groups of
    neighbouring positions) or across a dilated grid (``'grid'``: positions ``grid / partition`` apart)."""

    def __init__(self, in_channels, head_dim, partition_size, partition_type, grid_size, mlp_ratio,
                 activation_layer, norm_layer, attention_dropout, mlp_dropout, p_stochastic_dropout):
        super().__init__()
        self.n_heads = in_channels // head_dim
        self.head_dim = head_dim
        self.n_partitions = grid_size[0] // partition_size
        self.partition_type = partition_type
        self.grid_size = grid_size
        if partition_type not in ['grid', 'window']:
            raise ValueError("partition_type must be either 'grid' or 'window'")
        if partition_type == 'window':
            self.p, self.g = partition_size, self.n_partitions
        else:
            self.p, self.g = self.n_partitions, partition_size
        self.partition_op = WindowPartition()
        self.departition_op = WindowDepartition()
        self.partition_swap = SwapAxes(-2, -3) if partition_type == 'grid' else nn.Identity()
        self.departition_swap = SwapAxes(-2, -3) if partition_type == 'grid' else nn.Identity()
        self.attn_layer = nn.Sequential(
            norm_layer(in_channels), RelativePositionalMultiHeadAttention(in_channels, head_dim, partition_size ** 2),
            nn.Dropout(attention_dropout))
        self.mlp_layer = nn.Sequential(
            nn.LayerNorm(in_channels), nn.Linear(in_channels, in_channels * mlp_ratio), activation_layer(),
            nn.Linear(in_channels * mlp_ratio, in_channels), nn.Dropout(mlp_dropout))
        self.stochastic_dropout = StochasticDepth(p_stochastic_dropout, mode='row')

    def forward(self, x):
        gh, gw = self.grid_size[0] // self.p, self.grid_size[1] // self.p
        if self.grid_size[0] % self.p != 0 or self.grid_size[1] % self.p != 0:
            raise AssertionError('Grid size must be divisible by partition size. Got grid size of {} and partition '
                                 'size of {}'.format(self.grid_size, self.p))
        x = self.partition_swap(self.partition_op(x, self.p))
        x = x + self.stochastic_dropout(self.attn_layer(x))
        x = x + self.stochastic_dropout(self.mlp_layer(x))
        return self.departition_op(self.departition_swap(x), self.p, gh, gw)


class MaxVitLayer(nn.Module):
    """An MBConv, then window attention, then grid attention (``layers.MBconv/window_attention/grid_attention``)."""

    def __init__(self, in_channels, out_channels, squeeze_ratio, expansion_ratio, stride, norm_layer,
                 activation_layer, head_dim, mlp_ratio, mlp_dropout, attention_dropout, p_stochastic_dropout,
                 partition_size, grid_size):
        super().__init__()
        attention = partial(PartitionAttentionLayer, in_channels=out_channels, head_dim=head_dim,
                            partition_size=partition_size, grid_size=grid_size, mlp_ratio=mlp_ratio,
                            activation_layer=activation_layer, norm_layer=nn.LayerNorm,
                            attention_dropout=attention_dropout, mlp_dropout=mlp_dropout,
                            p_stochastic_dropout=p_stochastic_dropout)
        layers = OrderedDict()
        layers['MBconv'] = MBConv(in_channels=in_channels, out_channels=out_channels, expansion_ratio=expansion_ratio,
                                  squeeze_ratio=squeeze_ratio, stride=stride, activation_layer=activation_layer,
                                  norm_layer=norm_layer, p_stochastic_dropout=p_stochastic_dropout)
        layers['window_attention'] = attention(partition_type='window')
        layers['grid_attention'] = attention(partition_type='grid')
        self.layers = nn.Sequential(layers)

    def forward(self, x):
        return self.layers(x)


class MaxVitBlock(nn.Module):
    """``n_layers`` MaxVit layers, the first halving the size; ``p_stochastic`` holds each one's depth rate."""

    def __init__(self, in_channels, out_channels, squeeze_ratio, expansion_ratio, norm_layer, activation_layer,
                 head_dim, mlp_ratio, mlp_dropout, attention_dropout, partition_size, input_grid_size, n_layers,
                 p_stochastic):
        super().__init__()
        if not len(p_stochastic) == n_layers:
            raise ValueError(f'p_stochastic must have length n_layers={n_layers}, got p_stochastic={p_stochastic}.')
        self.layers = nn.ModuleList()
        self.grid_size = _get_conv_output_shape(input_grid_size, kernel_size=3, stride=2, padding=1)
        for idx, p in enumerate(p_stochastic):
            self.layers += [MaxVitLayer(
                in_channels=in_channels if idx == 0 else out_channels, out_channels=out_channels,
                squeeze_ratio=squeeze_ratio, expansion_ratio=expansion_ratio, stride=2 if idx == 0 else 1,
                norm_layer=norm_layer, activation_layer=activation_layer, head_dim=head_dim, mlp_ratio=mlp_ratio,
                mlp_dropout=mlp_dropout, attention_dropout=attention_dropout, partition_size=partition_size,
                grid_size=self.grid_size, p_stochastic_dropout=p)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MaxVit(nn.Module):
    """MaxViT: a two-convolution stem, the blocks (each feature size divisible by ``partition_size``) and a
    pooled LayerNorm / Linear / Tanh / Linear head; stochastic depth rates spread linearly over the layers."""

    def __init__(self, input_size, stem_channels, partition_size, block_channels, block_layers, head_dim,
                 stochastic_depth_prob, norm_layer=None, activation_layer=nn.GELU, squeeze_ratio=0.25,
                 expansion_ratio=4, mlp_ratio=4, mlp_dropout=0.0, attention_dropout=0.0, num_classes=1000):
        super().__init__()
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)
        _check_partition_size(input_size, len(block_channels), partition_size)
        self.stem = nn.Sequential(
            Conv2dNormActivation(3, stem_channels, 3, stride=2, norm_layer=norm_layer,
                                 activation_layer=activation_layer, bias=False, inplace=None),
            Conv2dNormActivation(stem_channels, stem_channels, 3, stride=1, norm_layer=None, activation_layer=None,
                                 bias=True))
        input_size = _get_conv_output_shape(input_size, kernel_size=3, stride=2, padding=1)
        self.partition_size = partition_size
        self.blocks = nn.ModuleList()
        p_stochastic = np.linspace(0, stochastic_depth_prob, sum(block_layers)).tolist()
        p_idx = 0
        for in_channel, out_channel, num_layers in zip([stem_channels] + block_channels[:-1], block_channels,
                                                       block_layers):
            self.blocks.append(MaxVitBlock(
                in_channels=in_channel, out_channels=out_channel, squeeze_ratio=squeeze_ratio,
                expansion_ratio=expansion_ratio, norm_layer=norm_layer, activation_layer=activation_layer,
                head_dim=head_dim, mlp_ratio=mlp_ratio, mlp_dropout=mlp_dropout,
                attention_dropout=attention_dropout, partition_size=partition_size, input_grid_size=input_size,
                n_layers=num_layers, p_stochastic=p_stochastic[p_idx:p_idx + num_layers]))
            input_size = self.blocks[-1].grid_size
            p_idx += num_layers
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(block_channels[-1]),
            nn.Linear(block_channels[-1], block_channels[-1]), nn.Tanh(),
            nn.Linear(block_channels[-1], num_classes, bias=False))
        self._init_weights()

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


def _check_partition_size(input_size, n_blocks, partition_size):
    sizes = _make_block_input_shapes(input_size, n_blocks)
    for idx, size in enumerate(sizes):
        if size[0] % partition_size != 0 or size[1] % partition_size != 0:
            raise ValueError(f'Input size {size} of block {idx} is not divisible by partition size {partition_size}. '
                             f'Consider changing the partition size or the input size.\n'
                             f'Current configuration yields the following block input sizes: {sizes}.')


class MaxVit_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/maxvit_t-bc5ab103.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=224,
                           interpolation=InterpolationMode.BICUBIC),
        meta={'categories': _IMAGENET_CATEGORIES, 'num_params': 30919624, 'min_size': (224, 224),
              'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#maxvit',
              '_metrics': {'ImageNet-1K': {'acc@1': 83.700, 'acc@5': 96.722}}, '_ops': 5.558, '_file_size': 118.769,
              '_docs': 'These weights reproduce closely the results of the paper using a similar training recipe. '
                       'They were trained with a BatchNorm2D momentum of 0.99 instead of the more correct 0.01.'})
    DEFAULT = IMAGENET1K_V1


@builder(MaxVit_T_Weights)
def maxvit_t(weights=None, **kwargs):
    """MaxViT-T (``weights``: ``MaxVit_T_Weights``); pretrained weights fix ``input_size`` to 224x224."""
    if weights is not None:
        _ovewrite_named_param(kwargs, 'input_size', weights.meta['min_size'])
    return MaxVit(stem_channels=64, block_channels=[64, 128, 256, 512], block_layers=[2, 2, 5, 2], head_dim=32,
                  stochastic_depth_prob=0.2, partition_size=7, input_size=kwargs.pop('input_size', (224, 224)),
                  **kwargs)
