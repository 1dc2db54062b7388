"""Swin Transformer V1 and V2 (tiny, small, base) with torchvision's module names (``features.N.M.attn.qkv``...),
initialisation and weights enums: shifted window attention with a relative position bias (a learned table in
V1, a small MLP over log-spaced coordinates with cosine attention in V2), patch merging and stochastic depth."""
import math
from functools import partial

import ember
from ember import nn
from ember.nn import functional as F

from ..ops.misc import MLP, Permute
from ..ops.stochastic_depth import StochasticDepth
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, builder
from ._meta import _IMAGENET_CATEGORIES

__all__ = ['SwinTransformer', 'Swin_T_Weights', 'Swin_S_Weights', 'Swin_B_Weights', 'Swin_V2_T_Weights',
           'Swin_V2_S_Weights', 'Swin_V2_B_Weights', 'swin_t', 'swin_s', 'swin_b', 'swin_v2_t', 'swin_v2_s',
           'swin_v2_b']


def _patch_merging_pad(x):
    """(..., H, W, C) to (..., ceil(H/2), ceil(W/2), 4C): each 2x2 neighbourhood's pixels side by side (odd
    sizes padded with zeros)."""
    h, w = x.shape[-3], x.shape[-2]
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
    return ember.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]],
                     -1)


def _get_relative_position_bias(relative_position_bias_table, relative_position_index, window_size):
    """(1, heads, N, N) bias of every pair of the N positions of a window, looked up in the table."""
    n = window_size[0] * window_size[1]
    bias = relative_position_bias_table[relative_position_index].view(n, n, -1)
    return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


class PatchMerging(nn.Module):
    """Halve the resolution and double the channels: merge 2x2 patches, LayerNorm over 4C, Linear to 2C."""

    def __init__(self, dim, norm_layer=nn.LayerNorm):
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x):
        return self.reduction(self.norm(_patch_merging_pad(x)))


class PatchMergingV2(nn.Module):
    """Swin V2's patch merging: the Linear first, then LayerNorm over 2C."""

    def __init__(self, dim, norm_layer=nn.LayerNorm):
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(2 * dim)

    def forward(self, x):
        return self.norm(self.reduction(_patch_merging_pad(x)))


def _window_shift_mask(pad_h, pad_w, window_size, shift_size, like):
    """(windows, N, N) mask: -100 between positions that the cyclic shift brought from different regions."""
    mask = like.new_zeros((pad_h, pad_w))
    h_slices = ((0, -window_size[0]), (-window_size[0], -shift_size[0]), (-shift_size[0], None))
    w_slices = ((0, -window_size[1]), (-window_size[1], -shift_size[1]), (-shift_size[1], None))
    for count, (h, w) in enumerate((h, w) for h in h_slices for w in w_slices):
        mask[h[0]:h[1], w[0]:w[1]] = count
    mask = mask.view(pad_h // window_size[0], window_size[0], pad_w // window_size[1], window_size[1])
    mask = mask.permute(0, 2, 1, 3).reshape(-1, window_size[0] * window_size[1])
    mask = mask.unsqueeze(1) - mask.unsqueeze(2)
    return mask.masked_fill(mask != 0, float(-100.0)).masked_fill(mask == 0, float(0.0))


def _attention_logits(x, qkv_weight, qkv_bias, num_heads, logit_scale):
    """Per-window query-key logits (scaled dot products, or V2's cosine similarities times a clamped learned
    scale) and the values. V2 leaves the key bias out."""
    windows, n, c = x.shape
    if logit_scale is not None and qkv_bias is not None:
        qkv_bias = qkv_bias.clone()
        length = qkv_bias.numel() // 3
        qkv_bias[length:2 * length].zero_()
    qkv = F.linear(x, qkv_weight, qkv_bias).reshape(windows, n, 3, num_heads, c // num_heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    if logit_scale is not None:
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        return attn * ember.clamp(logit_scale, max=math.log(100.0)).exp(), v
    return (q * (c // num_heads) ** -0.5).matmul(k.transpose(-2, -1)), v


def shifted_window_attention(input, qkv_weight, proj_weight, relative_position_bias, window_size, num_heads,
                             shift_size, attention_dropout=0.0, dropout=0.0, qkv_bias=None, proj_bias=None,
                             logit_scale=None, training=True):
    """Multi-head self-attention within (shifted) windows of an (N, H, W, C) input: pad to whole windows,
    roll by ``-shift_size`` (no shift along a side one window covers), attend within each window with the
    relative position bias (and the mask that keeps rolled-in regions apart), project, undo the roll and pad."""
    b, h, w, c = input.shape
    pad_r = (window_size[1] - w % window_size[1]) % window_size[1]
    pad_b = (window_size[0] - h % window_size[0]) % window_size[0]
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b))
    _, pad_h, pad_w, _ = x.shape
    shift_size = [0 if window_size[i] >= (pad_h, pad_w)[i] else shift_size[i] for i in range(2)]
    if sum(shift_size) > 0:
        x = ember.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))
    num_windows = (pad_h // window_size[0]) * (pad_w // window_size[1])
    x = x.view(b, pad_h // window_size[0], window_size[0], pad_w // window_size[1], window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * num_windows, window_size[0] * window_size[1], c)
    attn, v = _attention_logits(x, qkv_weight, qkv_bias, num_heads, logit_scale)
    attn = attn + relative_position_bias
    n = x.size(1)
    if sum(shift_size) > 0:
        mask = _window_shift_mask(pad_h, pad_w, window_size, shift_size, x)
        attn = attn.view(x.size(0) // num_windows, num_windows, num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, num_heads, n, n)
    attn = F.dropout(F.softmax(attn, dim=-1), p=attention_dropout, training=training)
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), n, c)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)
    x = x.view(b, pad_h // window_size[0], pad_w // window_size[1], window_size[0], window_size[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, pad_h, pad_w, c)
    if sum(shift_size) > 0:
        x = ember.roll(x, shifts=(shift_size[0], shift_size[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


class ShiftedWindowAttention(nn.Module):
    """:func:`shifted_window_attention` with its ``qkv``/``proj`` layers and a learned relative position bias
    table ((2Wh-1)(2Ww-1) x heads, truncated-normal initialised) indexed by ``relative_position_index``."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True,
                 attention_dropout=0.0, dropout=0.0):
        super().__init__()
        if len(window_size) != 2 or len(shift_size) != 2:
            raise ValueError('window_size and shift_size must be of length 2')
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.define_relative_position_bias_table()
        self.define_relative_position_index()

    def define_relative_position_bias_table(self):
        size = (2 * self.window_size[0] - 1) * (2 * self.window_size[1] - 1)
        self.relative_position_bias_table = nn.Parameter(ember.zeros(size, self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def define_relative_position_index(self):
        """Index of each (query, key) pair's offset (dy, dx) in the table: (dy + Wh - 1) (2Ww - 1) + dx + Ww - 1."""
        wh, ww = self.window_size
        coords = ember.stack(ember.meshgrid(ember.arange(wh), ember.arange(ww), indexing='ij')).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        index = (rel[:, :, 0] + (wh - 1)) * (2 * ww - 1) + (rel[:, :, 1] + (ww - 1))
        self.register_buffer('relative_position_index', index.flatten())

    def get_relative_position_bias(self):
        return _get_relative_position_bias(self.relative_position_bias_table, self.relative_position_index,
                                           self.window_size)

    def _logit_scale(self):
        return None

    def forward(self, x):
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, self.get_relative_position_bias(), self.window_size,
            self.num_heads, shift_size=self.shift_size, attention_dropout=self.attention_dropout,
            dropout=self.dropout, qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, logit_scale=self._logit_scale(),
            training=self.training)


class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """Swin V2's attention: cosine similarities times a learned per-head scale, and a relative position bias
    ``16 sigmoid(cpb_mlp(coords))`` from log-spaced relative coordinates (a buffer); no key bias."""

    def __init__(self, dim, window_size, shift_size, num_heads, qkv_bias=True, proj_bias=True,
                 attention_dropout=0.0, dropout=0.0):
        super().__init__(dim, window_size, shift_size, num_heads, qkv_bias=qkv_bias, proj_bias=proj_bias,
                         attention_dropout=attention_dropout, dropout=dropout)
        self.logit_scale = nn.Parameter(ember.log(10 * ember.ones((num_heads, 1, 1))))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 512, bias=True), nn.ReLU(inplace=True),
                                     nn.Linear(512, num_heads, bias=False))
        if qkv_bias:
            length = self.qkv.bias.numel() // 3
            with ember.no_grad():
                self.qkv.bias[length:2 * length].zero_()

    def define_relative_position_bias_table(self):
        """(1, 2Wh-1, 2Ww-1, 2) offsets scaled to [-8, 8], then ``sign(t) log2(|t| + 1) / 3``."""
        wh, ww = self.window_size
        h = ember.arange(-(wh - 1), wh, dtype=ember.float32) / (wh - 1)
        w = ember.arange(-(ww - 1), ww, dtype=ember.float32) / (ww - 1)
        table = ember.stack(ember.meshgrid([h, w], indexing='ij')).permute(1, 2, 0).contiguous().unsqueeze(0) * 8
        self.register_buffer('relative_coords_table', ember.sign(table) * ember.log2(ember.abs(table) + 1.0) / 3.0)

    def get_relative_position_bias(self):
        table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
        return 16 * ember.sigmoid(_get_relative_position_bias(table, self.relative_position_index,
                                                               self.window_size))

    def _logit_scale(self):
        return self.logit_scale


class SwinTransformerBlock(nn.Module):
    """Pre-norm block: ``x + sd(attn(norm1(x)))`` then ``x + sd(mlp(norm2(x)))`` (GELU MLP, Xavier weights)."""

    def __init__(self, dim, num_heads, window_size, shift_size, mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0,
                 stochastic_depth_prob=0.0, norm_layer=nn.LayerNorm, attn_layer=ShiftedWindowAttention):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, window_size, shift_size, num_heads, attention_dropout=attention_dropout,
                               dropout=dropout)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, 'row')
        self.norm2 = norm_layer(dim)
        self.mlp = MLP(dim, [int(dim * mlp_ratio), dim], activation_layer=nn.GELU, inplace=None, dropout=dropout)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x):
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


class SwinTransformerBlockV2(SwinTransformerBlock):
    """Swin V2's residual post-norm block: ``x + sd(norm1(attn(x)))`` then ``x + sd(norm2(mlp(x)))``."""

    def __init__(self, dim, num_heads, window_size, shift_size, mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0,
                 stochastic_depth_prob=0.0, norm_layer=nn.LayerNorm, attn_layer=ShiftedWindowAttentionV2):
        super().__init__(dim, num_heads, window_size, shift_size, mlp_ratio=mlp_ratio, dropout=dropout,
                         attention_dropout=attention_dropout, stochastic_depth_prob=stochastic_depth_prob,
                         norm_layer=norm_layer, attn_layer=attn_layer)

    def forward(self, x):
        x = x + self.stochastic_depth(self.norm1(self.attn(x)))
        return x + self.stochastic_depth(self.norm2(self.mlp(x)))


class SwinTransformer(nn.Module):
    """Swin Transformer ("Hierarchical Vision Transformer using Shifted Windows"): a patch embedding, stages of
    blocks alternating plain and half-window-shifted attention with patch merging between them, a final norm,
    average pooling and a linear head. The stochastic depth rate grows linearly over the blocks."""

    def __init__(self, patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio=4.0, dropout=0.0,
                 attention_dropout=0.0, stochastic_depth_prob=0.1, num_classes=1000, norm_layer=None, block=None,
                 downsample_layer=PatchMerging):
        super().__init__()
        self.num_classes = num_classes
        block = block or SwinTransformerBlock
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-5)
        layers = [nn.Sequential(nn.Conv2d(3, embed_dim, kernel_size=(patch_size[0], patch_size[1]),
                                          stride=(patch_size[0], patch_size[1])),
                                Permute([0, 2, 3, 1]), norm_layer(embed_dim))]
        total, block_id = sum(depths), 0
        for i_stage, (depth, heads) in enumerate(zip(depths, num_heads)):
            dim, stage = embed_dim * 2 ** i_stage, []
            for i_layer in range(depth):
                stage.append(block(dim, heads, window_size=window_size,
                                   shift_size=[0 if i_layer % 2 == 0 else w // 2 for w in window_size],
                                   mlp_ratio=mlp_ratio, dropout=dropout, attention_dropout=attention_dropout,
                                   stochastic_depth_prob=stochastic_depth_prob * float(block_id) / (total - 1),
                                   norm_layer=norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)
        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.permute(self.norm(self.features(x))))
        return self.head(self.flatten(x))


def _weights(file, crop, resize, num_params, recipe, acc1, acc5, ops, size):
    return Weights(
        url=f'https://download.pytorch.org/models/{file}.pth',
        transforms=partial(ImageClassification, crop_size=crop, resize_size=resize,
                           interpolation=InterpolationMode.BICUBIC),
        meta={'categories': _IMAGENET_CATEGORIES, 'num_params': num_params, 'min_size': (crop, crop),
              'recipe': f'https://github.com/pytorch/vision/tree/main/references/classification#{recipe}',
              '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, '_ops': ops, '_file_size': size,
              '_docs': 'These weights reproduce closely the results of the paper using a similar training recipe.'})


class Swin_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_t-704ceda3', 224, 232, 28288354, 'swintransformer', 81.474, 95.776, 4.491,
                             108.19)
    DEFAULT = IMAGENET1K_V1


class Swin_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_s-5e29d889', 224, 246, 49606258, 'swintransformer', 83.196, 96.36, 8.741,
                             189.786)
    DEFAULT = IMAGENET1K_V1


class Swin_B_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_b-68c6b09e', 224, 238, 87768224, 'swintransformer', 83.582, 96.64, 15.431,
                             335.364)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_v2_t-b137f0e2', 256, 260, 28351570, 'swintransformer-v2', 82.072, 96.132, 5.94,
                             108.626)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_v2_s-637d8ceb', 256, 260, 49737442, 'swintransformer-v2', 83.712, 96.816,
                             11.546, 190.675)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_B_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights('swin_v2_b-781e5279', 256, 272, 87930848, 'swintransformer-v2', 84.112, 96.864,
                             20.325, 336.372)
    DEFAULT = IMAGENET1K_V1


_V2 = {'block': SwinTransformerBlockV2, 'downsample_layer': PatchMergingV2}


def _swin(embed_dim, depths, num_heads, window, sd_prob, kwargs, v2=False):
    return SwinTransformer(patch_size=[4, 4], embed_dim=embed_dim, depths=depths, num_heads=num_heads,
                           window_size=[window, window], stochastic_depth_prob=sd_prob, **(_V2 if v2 else {}),
                           **kwargs)


@builder(Swin_T_Weights)
def swin_t(weights=None, **kwargs):
    """Swin-T (``weights``: ``Swin_T_Weights``)."""
    return _swin(96, [2, 2, 6, 2], [3, 6, 12, 24], 7, 0.2, kwargs)


@builder(Swin_S_Weights)
def swin_s(weights=None, **kwargs):
    """Swin-S (``weights``: ``Swin_S_Weights``)."""
    return _swin(96, [2, 2, 18, 2], [3, 6, 12, 24], 7, 0.3, kwargs)


@builder(Swin_B_Weights)
def swin_b(weights=None, **kwargs):
    """Swin-B (``weights``: ``Swin_B_Weights``)."""
    return _swin(128, [2, 2, 18, 2], [4, 8, 16, 32], 7, 0.5, kwargs)


@builder(Swin_V2_T_Weights)
def swin_v2_t(weights=None, **kwargs):
    """Swin V2-T (``weights``: ``Swin_V2_T_Weights``)."""
    return _swin(96, [2, 2, 6, 2], [3, 6, 12, 24], 8, 0.2, kwargs, v2=True)


@builder(Swin_V2_S_Weights)
def swin_v2_s(weights=None, **kwargs):
    """Swin V2-S (``weights``: ``Swin_V2_S_Weights``)."""
    return _swin(96, [2, 2, 18, 2], [3, 6, 12, 24], 8, 0.3, kwargs, v2=True)


@builder(Swin_V2_B_Weights)
def swin_v2_b(weights=None, **kwargs):
    """Swin V2-B (``weights``: ``Swin_V2_B_Weights``)."""
    return _swin(128, [2, 2, 18, 2], [4, 8, 16, 32], 8, 0.5, kwargs, v2=True)
