"""Real public programs run on ember against PyTorch (session 30): einops-based code (einops' functions on plain
ember tensors, its torch layers under the alias, lucidrains' vit-pytorch ViT/SimpleViT and a
denoising-diffusion-pytorch Unet with GaussianDiffusion), rasbt/LLMs-from-scratch chapters 2-7 (GPTModel with
its register_buffer mask, the training loop, top-k/temperature generation, LoRA, the instruction collate),
yunjey/pytorch-tutorial (basics, CNN, residual network, RNN/BiRNN, language model, GAN, VAE, neural style,
image captioning with pack_padded_sequence) and mrdbourke/pytorch-deep-learning (ImageFolder with
TrivialAugmentWide, TinyVGG with engine.py's loops, torchinfo's summary). Each is reduced to its essential lines,
runs with the same seed on both libraries (their generators agree) and is compared value for value."""
import importlib
import math
import subprocess
import sys
from functools import partial

import einops
import numpy as np
import pytest
import torch

import ember
from ember import aliasing
from helpers import assert_same, import_torchvision

tv = import_torchvision()


def _both(run, **kw):
    """``run(T, ...)`` on PyTorch and on ember; the two results."""
    return run(torch, **kw), run(ember, **kw)


def _same_tree(got, want, atol=1e-5, rtol=1e-4, what='result'):
    """Nested lists/tuples/dicts of tensors, arrays and plain values equal to rounding."""
    if isinstance(want, dict):
        assert list(got) == list(want), what
        for k in want:
            _same_tree(got[k], want[k], atol, rtol, f'{what}[{k!r}]')
    elif isinstance(want, (list, tuple)):
        assert type(got).__name__ == type(want).__name__ and len(got) == len(want), f'{what}: {got} != {want}'
        for i, (g, w) in enumerate(zip(got, want)):
            _same_tree(g, w, atol, rtol, f'{what}[{i}]')
    elif isinstance(want, torch.Tensor):
        assert_same(got, want, atol, rtol, what)
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=rtol, abs_tol=atol), f'{what}: {got} != {want}'
    else:
        assert got == want, f'{what}: {got!r} != {want!r}'


def _einops_layers(T):
    """``einops.layers.torch`` as a program importing it sees it: bound to ember under the alias, else to
    PyTorch (the module binds ``torch`` when first imported, so each library gets a fresh import)."""
    stale = ('einops.layers.torch', 'einops._torch_specific')
    for name in stale:
        sys.modules.pop(name, None)
    try:
        if T is torch:
            return importlib.import_module('einops.layers.torch')
        with aliasing.as_torch():
            return importlib.import_module('einops.layers.torch')
    finally:
        for name in stale:
            sys.modules.pop(name, None)


# -- einops ------------------------------------------------------------------------------------------------
_EINOPS = [
    ('rearrange', lambda e, x: e.rearrange(x, 'b c (h p) w -> b (h w) (p c)', p=2)),
    ('rearrange list', lambda e, x: e.rearrange(list(x), 'n c h w -> c (n h) w')),
    ('reduce mean', lambda e, x: e.reduce(x, 'b c (h h2) (w w2) -> b c h w', 'mean', h2=2, w2=3)),
    ('reduce max', lambda e, x: e.reduce(x, 'b c h w -> b c', 'max')),
    ('reduce min', lambda e, x: e.reduce(x, 'b c h w -> c', 'min')),
    ('reduce sum keep', lambda e, x: e.reduce(x, 'b c h w -> b 1 h w', 'sum')),
    ('reduce prod', lambda e, x: e.reduce(x * 0.5, 'b c h w -> b w', 'prod')),
    ('reduce callable', lambda e, x: e.reduce(x, 'o ... -> o 1 1 1', partial(_lib(x).var, unbiased=False))),
    ('repeat', lambda e, x: e.repeat(x[0, 0], 'h w -> h (w r) n', r=2, n=3)),
    ('repeat new axis', lambda e, x: e.repeat(x[:, 0, 0], 'b w -> b n w', n=2)),
    ('einsum', lambda e, x: e.einsum(x, x[0], 'b c h w, c h v -> b w v')),
    ('pack', lambda e, x: e.pack([x, x[:, 0], x[:, :1, 0, 0]], 'b *')),
    ('unpack', lambda e, x: e.unpack(e.rearrange(x, 'b c h w -> b (c h w)'), [[3, 4], [5, 3, 4]], 'b *')),
    ('parse_shape', lambda e, x: e.parse_shape(x, 'b _ h w')),
]


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else ember


@pytest.mark.parametrize('name,fn', _EINOPS, ids=[n for n, _ in _EINOPS])
def test_einops_functions_on_plain_ember(name, fn):
    """einops' functions take ember tensors without the torch alias (``import ember`` gives einops an ember
    backend), values and gradients as on PyTorch tensors."""
    a = np.random.default_rng(0).normal(size=(2, 3, 4, 6)).astype(np.float32)
    res = []
    for T in (torch, ember):
        x = T.tensor(a, requires_grad=True)
        out = fn(einops, x)
        flat = [out] if isinstance(out, T.Tensor) else [o for o in (out[0] if name == 'pack' else out)
                                                         if isinstance(o, T.Tensor)]
        if flat:
            sum((o * T.arange(float(o.numel())).reshape(o.shape)).sum() for o in flat).backward()
        res.append((out, x.grad))
    _same_tree(res[1], res[0], what=name)


def test_einops_gradients_against_finite_differences():
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.normal(size=(2, 4, 6)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: einops.reduce(x, 'b (h h2) w -> b h', 'max', h2=2), (x,))
    assert ember.autograd.gradcheck(lambda x: einops.repeat(einops.rearrange(x, 'b h w -> w (b h)'),
                                                            'w bh -> w bh r', r=2), (x,))


_ORDERS = """
import sys
order = sys.argv[1]
if order == 'einops first':
    import einops, ember
else:
    import ember, einops
x = ember.arange(24.).reshape(2, 3, 4)
print(einops.rearrange(x, 'b c d -> d (b c)').tolist(), einops.reduce(x, 'b c d -> b', 'sum').tolist(),
      type(einops.repeat(x[0, 0], 'd -> n d', n=2)).__module__, 'torch' in sys.modules)
"""


@pytest.mark.parametrize('order', ['einops first', 'ember first'])
def test_einops_import_order(order):
    """The ember backend is there whichever of einops and ember a program imports first (a hook adds it when
    ``einops._backends`` loads after ember), and PyTorch stays unimported."""
    out = subprocess.run([sys.executable, '-c', _ORDERS, order], capture_output=True, text=True, check=True)
    x = np.arange(24.).reshape(2, 3, 4)
    want = f"{x.transpose(2, 0, 1).reshape(4, 6).tolist()} {x.sum((1, 2)).tolist()} ember.tensor False"
    assert out.stdout.strip() == want


def test_einops_layers_under_the_alias():
    """``from einops.layers.torch import Rearrange, Reduce, EinMix`` in an aliased program gives ember modules;
    EinMix initialises its weights from the generator as on PyTorch."""
    def run(T):
        layers = _einops_layers(T)
        T.manual_seed(0)
        net = T.nn.Sequential(layers.Rearrange('b c (h p) w -> b h (p c w)', p=2),
                              layers.EinMix('b h i -> b h o', weight_shape='i o', bias_shape='o', i=12, o=5),
                              layers.Reduce('b h o -> b o', 'max'))
        x = T.arange(48.).reshape(2, 2, 4, 3) / 10
        y = net(x)
        y.sum().backward()
        return y, net[1].weight.grad, isinstance(net[0], T.nn.Module), repr(net[0]), len(list(net.parameters()))
    want, got = _both(run)
    _same_tree(got, want)


# -- lucidrains/vit-pytorch --------------------------------------------------------------------------------
def _vit_classes(T, layers):
    """vit_pytorch/vit.py and simple_vit.py, reduced to their modules."""
    nn = T.nn

    def pair(t):
        return t if isinstance(t, tuple) else (t, t)

    def posemb_sincos_2d(h, w, dim, temperature=10000, dtype=T.float32):
        y, x = T.meshgrid(T.arange(h), T.arange(w), indexing='ij')
        omega = 1.0 / (temperature ** (T.arange(dim // 4) / (dim // 4 - 1)))
        y = y.flatten()[:, None] * omega[None, :]
        x = x.flatten()[:, None] * omega[None, :]
        return T.cat((x.sin(), x.cos(), y.sin(), y.cos()), dim=1).type(dtype)

    class FeedForward(nn.Module):
        def __init__(self, dim, hidden, dropout=0.):
            super().__init__()
            self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, dim), nn.Dropout(dropout))

        def forward(self, x):
            return self.net(x)

    class Attention(nn.Module):
        def __init__(self, dim, heads, dim_head, dropout=0.):
            super().__init__()
            inner = dim_head * heads
            self.heads, self.scale = heads, dim_head ** -0.5
            self.norm, self.attend, self.dropout = nn.LayerNorm(dim), nn.Softmax(dim=-1), nn.Dropout(dropout)
            self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
            self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout))

        def forward(self, x):
            qkv = self.to_qkv(self.norm(x)).chunk(3, dim=-1)
            q, k, v = map(lambda t: einops.rearrange(t, 'b n (h d) -> b h n d', h=self.heads), qkv)
            attn = self.dropout(self.attend(T.matmul(q, k.transpose(-1, -2)) * self.scale))
            return self.to_out(einops.rearrange(T.matmul(attn, v), 'b h n d -> b n (h d)'))

    class Transformer(nn.Module):
        def __init__(self, dim, depth, heads, dim_head, mlp_dim, dropout=0.):
            super().__init__()
            self.norm = nn.LayerNorm(dim)
            self.layers = nn.ModuleList([nn.ModuleList([Attention(dim, heads, dim_head, dropout),
                                                        FeedForward(dim, mlp_dim, dropout)]) for _ in range(depth)])

        def forward(self, x):
            for attn, ff in self.layers:
                x = attn(x) + x
                x = ff(x) + x
            return self.norm(x)

    def patches(channels, ph, pw, dim):
        return nn.Sequential(layers.Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=ph, p2=pw),
                             nn.LayerNorm(channels * ph * pw), nn.Linear(channels * ph * pw, dim), nn.LayerNorm(dim))

    class ViT(nn.Module):
        def __init__(self, *, image_size, patch_size, num_classes, dim, depth, heads, mlp_dim, pool='cls',
                     channels=3, dim_head=64, dropout=0., emb_dropout=0.):
            super().__init__()
            (ih, iw), (ph, pw) = pair(image_size), pair(patch_size)
            ncls = 1 if pool == 'cls' else 0
            self.to_patch_embedding = patches(channels, ph, pw, dim)
            self.cls_token = nn.Parameter(T.randn(1, ncls, dim))
            self.pos_embedding = nn.Parameter(T.randn(1, (ih // ph) * (iw // pw) + ncls, dim))
            self.dropout = nn.Dropout(emb_dropout)
            self.transformer = Transformer(dim, depth, heads, dim_head, mlp_dim, dropout)
            self.pool, self.mlp_head = pool, nn.Linear(dim, num_classes)

        def forward(self, img):
            x = self.to_patch_embedding(img)
            b, n, _ = x.shape
            x = T.cat((einops.repeat(self.cls_token, '1 ... d -> b ... d', b=b), x), dim=1)
            x += self.pos_embedding[:, :(n + 1)]
            x = self.transformer(self.dropout(x))
            return self.mlp_head(x.mean(dim=1) if self.pool == 'mean' else x[:, 0])

    class SimpleViT(nn.Module):
        def __init__(self, *, image_size, patch_size, num_classes, dim, depth, heads, mlp_dim, dim_head=64):
            super().__init__()
            (ih, iw), (ph, pw) = pair(image_size), pair(patch_size)
            self.to_patch_embedding = patches(3, ph, pw, dim)
            self.pos_embedding = posemb_sincos_2d(h=ih // ph, w=iw // pw, dim=dim)
            self.transformer = Transformer(dim, depth, heads, dim_head, mlp_dim)
            self.linear_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes))

        def forward(self, img):
            x = self.to_patch_embedding(img)
            x += self.pos_embedding.to(img.device)
            return self.linear_head(self.transformer(x).mean(dim=1))
    return ViT, SimpleViT, Transformer


_VITS = [('ViT', dict(image_size=16, patch_size=4, dim=32, depth=2, heads=4, mlp_dim=64, dim_head=8, dropout=0.1,
                      emb_dropout=0.1), (16, 16)),
         ('ViT', dict(image_size=(16, 8), patch_size=(4, 2), dim=32, depth=1, heads=2, mlp_dim=64, pool='mean'),
          (16, 8)),
         ('SimpleViT', dict(image_size=16, patch_size=4, dim=32, depth=2, heads=4, mlp_dim=64, dim_head=8), (16, 16))]


@pytest.mark.parametrize('kind,kw,size', _VITS, ids=['vit-dropout', 'vit-mean-pool', 'simple-vit'])
def test_vit_pytorch_training(kind, kw, size):
    """Three AdamW steps of a small ViT/SimpleViT (dropout included: the generators agree), then eval logits."""
    def run(T):
        classes = dict(zip(('ViT', 'SimpleViT'), _vit_classes(T, _einops_layers(T))))
        T.manual_seed(0)
        model = classes[kind](num_classes=5, **kw)
        opt = T.optim.AdamW(model.parameters(), lr=1e-3)
        img, y = T.randn(4, 3, *size), T.randint(0, 5, (4,))
        losses = []
        for _ in range(3):
            loss = T.nn.functional.cross_entropy(model(img), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with T.no_grad():
            out = model(img)
        return losses, out, sum(p.numel() for p in model.parameters()), repr(model.to_patch_embedding)
    want, got = _both(run)
    _same_tree(got, want, atol=1e-5, rtol=1e-4)


# -- lucidrains/denoising-diffusion-pytorch ---------------------------------------------------------------
def _unet(T, layers, dim, dim_mults, self_condition):
    """denoising_diffusion_pytorch's Unet, reduced: weight-standardised convolutions (an einops reduction with
    ``partial(torch.var, unbiased=False)``), linear and full attention through einsum, RMSNorm, sinusoidal time
    embeddings, pixel-unshuffle downsampling (an einops layer) and nearest upsampling."""
    nn, F = T.nn, T.nn.functional

    class WSConv2d(nn.Conv2d):
        def forward(self, x):
            eps = 1e-5 if x.dtype == T.float32 else 1e-3
            mean = einops.reduce(self.weight, 'o ... -> o 1 1 1', 'mean')
            var = einops.reduce(self.weight, 'o ... -> o 1 1 1', partial(T.var, unbiased=False))
            w = (self.weight - mean) * (var + eps).rsqrt()
            return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)

    class RMSNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.g = nn.Parameter(T.ones(1, dim, 1, 1))

        def forward(self, x):
            return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)

    class Residual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x) + x

    class PosEmb(nn.Module):
        def forward(self, x):
            half = dim // 2
            emb = T.exp(T.arange(half, device=x.device) * -(math.log(10000) / (half - 1)))
            emb = x[:, None] * emb[None, :]
            return T.cat((emb.sin(), emb.cos()), dim=-1)

    class Block(nn.Module):
        def __init__(self, d, d_out):
            super().__init__()
            self.proj, self.norm, self.act = WSConv2d(d, d_out, 3, padding=1), nn.GroupNorm(8, d_out), nn.SiLU()

        def forward(self, x, scale_shift=None):
            x = self.norm(self.proj(x))
            if scale_shift is not None:
                scale, shift = scale_shift
                x = x * (scale + 1) + shift
            return self.act(x)

    class ResnetBlock(nn.Module):
        def __init__(self, d, d_out, time_dim):
            super().__init__()
            self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, d_out * 2))
            self.block1, self.block2 = Block(d, d_out), Block(d_out, d_out)
            self.res_conv = nn.Conv2d(d, d_out, 1) if d != d_out else nn.Identity()

        def forward(self, x, t):
            scale_shift = einops.rearrange(self.mlp(t), 'b c -> b c 1 1').chunk(2, dim=1)
            return self.block2(self.block1(x, scale_shift)) + self.res_conv(x)

    class Attention(nn.Module):
        def __init__(self, d, linear, heads=4, dim_head=32):
            super().__init__()
            self.linear, self.heads, self.scale = linear, heads, dim_head ** -0.5
            self.norm = RMSNorm(d)
            self.to_qkv = nn.Conv2d(d, dim_head * heads * 3, 1, bias=False)
            out = nn.Conv2d(dim_head * heads, d, 1)
            self.to_out = nn.Sequential(out, RMSNorm(d)) if linear else out

        def forward(self, x):
            b, c, h, w = x.shape
            qkv = self.to_qkv(self.norm(x)).chunk(3, dim=1)
            q, k, v = map(lambda t: einops.rearrange(t, 'b (h c) x y -> b h c (x y)', h=self.heads), qkv)
            if self.linear:
                q, k = q.softmax(dim=-2) * self.scale, k.softmax(dim=-1)
                context = T.einsum('b h d n, b h e n -> b h d e', k, v / (h * w))
                out = T.einsum('b h d e, b h d n -> b h e n', context, q)
                out = einops.rearrange(out, 'b h c (x y) -> b (h c) x y', h=self.heads, x=h, y=w)
            else:
                attn = T.einsum('b h d i, b h d j -> b h i j', q * self.scale, k).softmax(dim=-1)
                out = einops.rearrange(T.einsum('b h i j, b h d j -> b h i d', attn, v),
                                       'b h (x y) d -> b (h d) x y', x=h, y=w)
            return self.to_out(out)

    class Unet(nn.Module):
        def __init__(self, channels=3):
            super().__init__()
            self.channels, self.self_condition = channels, self_condition
            self.init_conv = nn.Conv2d(channels * (2 if self_condition else 1), dim, 7, padding=3)
            dims = [dim, *(dim * m for m in dim_mults)]
            in_out = list(zip(dims[:-1], dims[1:]))
            td = dim * 4
            self.time_mlp = nn.Sequential(PosEmb(), nn.Linear(dim, td), nn.GELU(), nn.Linear(td, td))
            self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
            for i, (din, dout) in enumerate(in_out):
                last = i == len(in_out) - 1
                self.downs.append(nn.ModuleList([
                    ResnetBlock(din, din, td), ResnetBlock(din, din, td), Residual(Attention(din, True)),
                    nn.Conv2d(din, dout, 3, padding=1) if last else nn.Sequential(
                        layers.Rearrange('b c (h p1) (w p2) -> b (c p1 p2) h w', p1=2, p2=2),
                        nn.Conv2d(din * 4, dout, 1))]))
            self.mid1, self.mid_attn = ResnetBlock(dims[-1], dims[-1], td), Residual(Attention(dims[-1], False))
            self.mid2 = ResnetBlock(dims[-1], dims[-1], td)
            for i, (din, dout) in enumerate(reversed(in_out)):
                last = i == len(in_out) - 1
                self.ups.append(nn.ModuleList([
                    ResnetBlock(dout + din, dout, td), ResnetBlock(dout + din, dout, td),
                    Residual(Attention(dout, True)),
                    nn.Conv2d(dout, din, 3, padding=1) if last else nn.Sequential(
                        nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(dout, din, 3, padding=1))]))
            self.final_res_block, self.final_conv = ResnetBlock(dim * 2, dim, td), nn.Conv2d(dim, channels, 1)

        def forward(self, x, time, x_self_cond=None):
            if self.self_condition:
                x = T.cat((x_self_cond if x_self_cond is not None else T.zeros_like(x), x), dim=1)
            x = self.init_conv(x)
            r, t, h = x.clone(), self.time_mlp(time), []
            for block1, block2, attn, down in self.downs:
                x = block1(x, t)
                h.append(x)
                x = attn(block2(x, t))
                h.append(x)
                x = down(x)
            x = self.mid2(self.mid_attn(self.mid1(x, t)), t)
            for block1, block2, attn, up in self.ups:
                x = block1(T.cat((x, h.pop()), dim=1), t)
                x = attn(block2(T.cat((x, h.pop()), dim=1), t))
                x = up(x)
            return self.final_conv(self.final_res_block(T.cat((x, r), dim=1), t))
    return Unet()


def _schedule(T, kind, steps):
    """The linear, cosine and sigmoid beta schedules, in float64 as the repository computes them."""
    if kind == 'linear':
        return T.linspace(1000 / steps * 1e-4, 1000 / steps * 0.02, steps, dtype=T.float64)
    t = T.linspace(0, steps, steps + 1, dtype=T.float64) / steps
    if kind == 'cosine':
        ac = T.cos((t + 0.008) / 1.008 * math.pi * 0.5) ** 2
    else:
        v_start, v_end = T.tensor(-3.).sigmoid(), T.tensor(3.).sigmoid()
        ac = (-(t * 6 - 3).sigmoid() + v_end) / (v_end - v_start)
    ac = ac / ac[0]
    return T.clip(1 - ac[1:] / ac[:-1], 0, 0.999)


def _diffusion(T, model, kind, objective, steps, sampling_steps, min_snr):
    """GaussianDiffusion, reduced: its float64 schedules stored as float32 buffers, q_sample, the three objectives
    with their min-SNR loss weights, p_sample_loop and DDIM sampling."""
    F = T.nn.functional

    def extract(a, t, shape):
        return a.gather(-1, t).reshape(t.shape[0], *((1,) * (len(shape) - 1)))

    class GaussianDiffusion(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.model, self.objective, self.num_timesteps = model, objective, steps
            betas = _schedule(T, kind, steps)
            alphas_cumprod = T.cumprod(1. - betas, dim=0)
            prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.)
            buf = {'betas': betas, 'alphas_cumprod': alphas_cumprod, 'sqrt_ac': T.sqrt(alphas_cumprod),
                   'sqrt_1mac': T.sqrt(1. - alphas_cumprod), 'sqrt_recip_ac': T.sqrt(1. / alphas_cumprod),
                   'sqrt_recipm1_ac': T.sqrt(1. / alphas_cumprod - 1)}
            post_var = betas * (1. - prev) / (1. - alphas_cumprod)
            buf.update(post_log_var=T.log(post_var.clamp(min=1e-20)),
                       coef1=betas * T.sqrt(prev) / (1. - alphas_cumprod),
                       coef2=(1. - prev) * T.sqrt(1. - betas) / (1. - alphas_cumprod))
            snr = alphas_cumprod / (1 - alphas_cumprod)
            clipped = snr.clone()
            if min_snr:
                clipped.clamp_(max=5)
            buf['loss_weight'] = {'pred_noise': clipped / snr, 'pred_x0': clipped, 'pred_v': clipped / (snr + 1)}[
                objective]
            for name, val in buf.items():
                self.register_buffer(name, val.to(T.float32))

        def predictions(self, x, t, self_cond=None, clip=False):
            out = self.model(x, t, self_cond)
            if self.objective == 'pred_noise':
                x_start = extract(self.sqrt_recip_ac, t, x.shape) * x - extract(self.sqrt_recipm1_ac, t, x.shape) * out
            elif self.objective == 'pred_x0':
                x_start = out
            else:
                x_start = extract(self.sqrt_ac, t, x.shape) * x - extract(self.sqrt_1mac, t, x.shape) * out
            x_start = T.clamp(x_start, min=-1., max=1.) if clip else x_start
            noise = (extract(self.sqrt_recip_ac, t, x.shape) * x - x_start) / extract(self.sqrt_recipm1_ac, t, x.shape)
            return (out if self.objective == 'pred_noise' else noise), x_start

        def forward(self, img):
            t = T.randint(0, self.num_timesteps, (img.shape[0],)).long()
            x_start = img * 2 - 1
            noise = T.randn_like(x_start)
            x = extract(self.sqrt_ac, t, x_start.shape) * x_start + extract(self.sqrt_1mac, t, x_start.shape) * noise
            self_cond = None
            if self.model.self_condition and T.rand(()) < 0.5:
                with T.no_grad():
                    self_cond = self.predictions(x, t)[1]
                    self_cond.detach_()
            target = {'pred_noise': noise, 'pred_x0': x_start}.get(self.objective)
            if target is None:
                target = extract(self.sqrt_ac, t, x.shape) * noise - extract(self.sqrt_1mac, t, x.shape) * x_start
            loss = einops.reduce(F.mse_loss(self.model(x, t, self_cond), target, reduction='none'), 'b ... -> b',
                                 'mean')
            return (loss * extract(self.loss_weight, t, loss.shape)).mean()

        @T.inference_mode()
        def sample(self, shape):
            img = T.randn(shape)
            if sampling_steps is None:
                for i in reversed(range(self.num_timesteps)):
                    t = T.full((shape[0],), i, dtype=T.long)
                    x_start = self.predictions(img, t)[1]
                    x_start.clamp_(-1., 1.)
                    mean = extract(self.coef1, t, img.shape) * x_start + extract(self.coef2, t, img.shape) * img
                    noise = T.randn_like(img) if i > 0 else 0.
                    img = mean + (0.5 * extract(self.post_log_var, t, img.shape)).exp() * noise
                return (img + 1) * 0.5
            times = list(reversed(T.linspace(-1, steps - 1, steps=sampling_steps + 1).int().tolist()))
            for time, time_next in zip(times[:-1], times[1:]):
                pred_noise, x_start = self.predictions(img, T.full((shape[0],), time, dtype=T.long), clip=True)
                if time_next < 0:
                    img = x_start
                    continue
                alpha, alpha_next = self.alphas_cumprod[time], self.alphas_cumprod[time_next]
                sigma = 0.5 * ((1 - alpha / alpha_next) * (1 - alpha_next) / (1 - alpha)).sqrt()
                c = (1 - alpha_next - sigma ** 2).sqrt()
                img = x_start * alpha_next.sqrt() + c * pred_noise + sigma * T.randn_like(img)
            return (img + 1) * 0.5
    return GaussianDiffusion()


_DIFFUSIONS = [('sigmoid', 'pred_v', 4, False, False), ('cosine', 'pred_noise', None, True, False),
               ('linear', 'pred_x0', None, False, True)]


@pytest.mark.parametrize('kind,objective,sampling_steps,min_snr,self_cond', _DIFFUSIONS,
                         ids=['sigmoid-v-ddim', 'cosine-noise-min-snr', 'linear-x0-self-cond'])
def test_denoising_diffusion_training_and_sampling(kind, objective, sampling_steps, min_snr, self_cond):
    """Three Adam steps with gradient clipping of a small Unet under GaussianDiffusion, then sampling (DDIM or
    the full ancestral loop); the buffers, losses, sampled images and final weights as on PyTorch."""
    def run(T):
        layers = _einops_layers(T)
        T.manual_seed(0)
        steps = 100 if kind == 'linear' else 6      # the linear schedule's betas pass 1 below 50 steps
        diffusion = _diffusion(T, _unet(T, layers, 8, (1, 2), self_cond), kind, objective, steps, sampling_steps,
                               min_snr)
        opt = T.optim.Adam(diffusion.parameters(), lr=1e-3, betas=(0.9, 0.99))
        data, losses = T.rand(4, 3, 8, 8), []
        for _ in range(3):
            loss = diffusion(data)
            loss.backward()
            T.nn.utils.clip_grad_norm_(diffusion.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
        samples = diffusion.sample((2, 3, 8, 8)) if not self_cond else None
        return losses, samples, dict(diffusion.named_buffers()), diffusion.model.final_conv.weight
    want, got = _both(run)
    _same_tree(got, want, atol=2e-5, rtol=1e-4)


# -- rasbt/LLMs-from-scratch ------------------------------------------------------------------------------
_TEXT = ("Every effort moves you forward. I HAD always thought Jack Gisburn rather a cheap genius--though a good "
         "fellow enough--so it was no great surprise to me to hear that, in the height of his glory, he had "
         "dropped his painting. ") * 3


def _llm_classes(T):
    """Chapters 3-4 and appendix E: MultiHeadAttention (its causal mask a register_buffer), the hand-written
    LayerNorm and tanh GELU, GPTModel, and the LoRA layers; chapter 2's sliding-window dataset."""
    nn = T.nn

    class GPTDatasetV1(T.utils.data.Dataset):
        def __init__(self, ids, max_length, stride):
            self.input_ids = [T.tensor(ids[i:i + max_length]) for i in range(0, len(ids) - max_length, stride)]
            self.target_ids = [T.tensor(ids[i + 1:i + max_length + 1])
                               for i in range(0, len(ids) - max_length, stride)]

        def __len__(self):
            return len(self.input_ids)

        def __getitem__(self, idx):
            return self.input_ids[idx], self.target_ids[idx]

    class MultiHeadAttention(nn.Module):
        def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
            super().__init__()
            self.d_out, self.num_heads, self.head_dim = d_out, num_heads, d_out // num_heads
            self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
            self.out_proj, self.dropout = nn.Linear(d_out, d_out), nn.Dropout(dropout)
            self.register_buffer('mask', T.triu(T.ones(context_length, context_length), diagonal=1))

        def forward(self, x):
            b, n, _ = x.shape
            split = [f(x).view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
                     for f in (self.W_key, self.W_query, self.W_value)]
            keys, queries, values = split
            scores = queries @ keys.transpose(2, 3)
            scores.masked_fill_(self.mask.bool()[:n, :n], -T.inf)
            weights = self.dropout(T.softmax(scores / keys.shape[-1] ** 0.5, dim=-1))
            context = (weights @ values).transpose(1, 2).contiguous().view(b, n, self.d_out)
            return self.out_proj(context)

    class LayerNorm(nn.Module):
        def __init__(self, emb_dim):
            super().__init__()
            self.eps, self.scale, self.shift = 1e-5, nn.Parameter(T.ones(emb_dim)), nn.Parameter(T.zeros(emb_dim))

        def forward(self, x):
            mean, var = x.mean(dim=-1, keepdim=True), x.var(dim=-1, keepdim=True, unbiased=False)
            return self.scale * (x - mean) / T.sqrt(var + self.eps) + self.shift

    class GELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1 + T.tanh(T.sqrt(T.tensor(2.0 / T.pi)) * (x + 0.044715 * T.pow(x, 3))))

    class TransformerBlock(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            d = cfg['emb_dim']
            self.att = MultiHeadAttention(d, d, cfg['context_length'], cfg['drop_rate'], cfg['n_heads'],
                                          cfg['qkv_bias'])
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), GELU(), nn.Linear(4 * d, d))
            self.norm1, self.norm2, self.drop_shortcut = LayerNorm(d), LayerNorm(d), nn.Dropout(cfg['drop_rate'])

        def forward(self, x):
            x = self.drop_shortcut(self.att(self.norm1(x))) + x
            return self.drop_shortcut(self.ff(self.norm2(x))) + x

    class GPTModel(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.tok_emb = nn.Embedding(cfg['vocab_size'], cfg['emb_dim'])
            self.pos_emb = nn.Embedding(cfg['context_length'], cfg['emb_dim'])
            self.drop_emb = nn.Dropout(cfg['drop_rate'])
            self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg['n_layers'])])
            self.final_norm = LayerNorm(cfg['emb_dim'])
            self.out_head = nn.Linear(cfg['emb_dim'], cfg['vocab_size'], bias=False)

        def forward(self, idx):
            x = self.drop_emb(self.tok_emb(idx) + self.pos_emb(T.arange(idx.shape[1], device=idx.device)))
            return self.out_head(self.final_norm(self.trf_blocks(x)))

    class LoRALayer(nn.Module):
        def __init__(self, in_dim, out_dim, rank, alpha):
            super().__init__()
            self.A = nn.Parameter(T.empty(in_dim, rank))
            nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            self.B, self.alpha = nn.Parameter(T.zeros(rank, out_dim)), alpha

        def forward(self, x):
            return self.alpha * (x @ self.A @ self.B)

    class LinearWithLoRA(nn.Module):
        def __init__(self, linear, rank, alpha):
            super().__init__()
            self.linear, self.lora = linear, LoRALayer(linear.in_features, linear.out_features, rank, alpha)

        def forward(self, x):
            return self.linear(x) + self.lora(x)
    return GPTDatasetV1, GPTModel, LinearWithLoRA


def _generate(T, model, idx, max_new_tokens, context_size, temperature=0.0, top_k=None):
    """Chapter 5's generate: top-k through torch.where against the k-th logit, temperature sampling."""
    for _ in range(max_new_tokens):
        with T.no_grad():
            logits = model(idx[:, -context_size:])[:, -1, :]
        if top_k is not None:
            min_val = T.topk(logits, top_k)[0][:, -1]
            logits = T.where(logits < min_val, T.tensor(float('-inf')).to(logits.device), logits)
        if temperature > 0.0:
            idx_next = T.multinomial(T.softmax(logits / temperature, dim=-1), num_samples=1)
        else:
            idx_next = T.argmax(logits, dim=-1, keepdim=True)
        idx = T.cat((idx, idx_next), dim=1)
    return idx


def _collate(T, batch, pad_token_id=0, ignore_index=-100):
    """Chapter 7's custom_collate_fn: pad with the end token, mask all but the first pad in the targets."""
    longest = max(len(item) + 1 for item in batch)
    inputs, targets = [], []
    for item in batch:
        padded = item + [pad_token_id] * (longest - len(item))
        x, y = T.tensor(padded[:-1]), T.tensor(padded[1:])
        indices = T.nonzero(y == pad_token_id).squeeze()
        if indices.numel() > 1:
            y[indices[1:]] = ignore_index
        inputs.append(x)
        targets.append(y)
    return T.stack(inputs), T.stack(targets)


def _llm_run(T):
    GPTDatasetV1, GPTModel, LinearWithLoRA = _llm_classes(T)
    chars = sorted(set(_TEXT))
    ids = [chars.index(c) for c in _TEXT]
    T.manual_seed(123)
    cfg = dict(vocab_size=len(chars), context_length=16, emb_dim=32, n_heads=4, n_layers=2, drop_rate=0.1,
               qkv_bias=False)
    split = int(0.9 * len(ids))
    train_loader = T.utils.data.DataLoader(GPTDatasetV1(ids[:split], 16, 16), batch_size=4, shuffle=True,
                                           drop_last=True)
    val_loader = T.utils.data.DataLoader(GPTDatasetV1(ids[split - 20:], 16, 4), batch_size=4, shuffle=False)
    model = GPTModel(cfg)
    optimizer = T.optim.AdamW(model.parameters(), lr=4e-4, weight_decay=0.1)

    def calc_loss_batch(x, y):
        return T.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
    seen = []
    for _ in range(2):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(x, y)
            loss.backward()
            optimizer.step()
            seen.append(loss.item())
        model.eval()
        with T.no_grad():
            seen.append(sum(calc_loss_batch(x, y).item() for x, y in val_loader) / len(val_loader))
    start = T.tensor([chars.index(c) for c in 'Every effort']).unsqueeze(0)
    greedy = _generate(T, model, start, 8, 16, top_k=3)
    T.manual_seed(123)
    sampled = _generate(T, model, start, 8, 16, temperature=1.4, top_k=8)
    for param in model.parameters():                              # chapter 6 and appendix E: LoRA fine-tuning
        param.requires_grad = False
    model.out_head = T.nn.Linear(cfg['emb_dim'], 2)
    for param in model.trf_blocks[-1].parameters():
        param.requires_grad = True

    def replace_linear_with_lora(module, rank, alpha):
        for name, child in module.named_children():
            if isinstance(child, T.nn.Linear):
                setattr(module, name, LinearWithLoRA(child, rank, alpha))
            else:
                replace_linear_with_lora(child, rank, alpha)
    replace_linear_with_lora(model, rank=4, alpha=8)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = T.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.1)
    xb, yb = T.randint(0, cfg['vocab_size'], (6, 12)), T.tensor([0, 1, 1, 0, 1, 0])
    model.train()
    for _ in range(3):
        logits = model(xb)[:, -1, :]
        loss = T.nn.functional.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(loss.item())
    inputs, targets = _collate(T, [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10]])
    return (seen, greedy, sampled, trainable, inputs, targets, repr(model.trf_blocks[0].att.W_query),
            model.trf_blocks[0].att.W_query.lora.B, model.trf_blocks[0].att.mask)


def test_llms_from_scratch_pretrain_generate_lora():
    """Pretraining with calc_loss_batch (AdamW, dropout), the validation loss, greedy and top-k/temperature
    generation, then LoRA classification fine-tuning of the frozen model and the instruction collate."""
    want, got = _both(_llm_run)
    _same_tree(got, want, atol=1e-5, rtol=1e-4)


def test_storage_sizeof_counts_its_bytes():
    """``sys.getsizeof(t.untyped_storage())`` grows with the bytes held, as PyTorch's (torchinfo's 'Input size'
    sums it over the inputs)."""
    res = []
    for T in (torch, ember):
        base = sys.getsizeof(T.ones(0).untyped_storage())
        res.append([sys.getsizeof(t.untyped_storage()) - base for t in
                    (T.ones(1, 3, 32, 32), T.ones(5, dtype=T.int64), T.ones(4, 4)[1:], T.ones(3, dtype=T.bool))])
    assert res[1] == res[0]


# -- yunjey/pytorch-tutorial ------------------------------------------------------------------------------
def _vision(T):
    return tv if T is torch else ember.vision


def _captioning(T):
    """03-advanced/image_captioning: EncoderCNN (resnet18 without its head, BatchNorm1d), DecoderRNN (features
    as the first step, pack_padded_sequence over the sorted captions, greedy sample), collate_fn, two steps."""
    nn = T.nn
    pack = T.nn.utils.rnn.pack_padded_sequence

    class EncoderCNN(nn.Module):
        def __init__(self, embed_size):
            super().__init__()
            resnet = _vision(T).models.resnet18()
            self.resnet = nn.Sequential(*list(resnet.children())[:-1])
            self.linear = nn.Linear(resnet.fc.in_features, embed_size)
            self.bn = nn.BatchNorm1d(embed_size, momentum=0.01)

        def forward(self, images):
            with T.no_grad():
                features = self.resnet(images)
            return self.bn(self.linear(features.reshape(features.size(0), -1)))

    class DecoderRNN(nn.Module):
        def __init__(self, embed_size, hidden_size, vocab_size, num_layers, max_seq_length):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed_size)
            self.lstm = nn.LSTM(embed_size, hidden_size, num_layers, batch_first=True)
            self.linear, self.max_seg_length = nn.Linear(hidden_size, vocab_size), max_seq_length

        def forward(self, features, captions, lengths):
            embeddings = T.cat((features.unsqueeze(1), self.embed(captions)), 1)
            hiddens, _ = self.lstm(pack(embeddings, lengths, batch_first=True))
            return self.linear(hiddens[0])

        def sample(self, features, states=None):
            sampled_ids, inputs = [], features.unsqueeze(1)
            for _ in range(self.max_seg_length):
                hiddens, states = self.lstm(inputs, states)
                _, predicted = self.linear(hiddens.squeeze(1)).max(1)
                sampled_ids.append(predicted)
                inputs = self.embed(predicted).unsqueeze(1)
            return T.stack(sampled_ids, 1)

    def collate_fn(data):
        data.sort(key=lambda x: len(x[1]), reverse=True)
        images, captions = zip(*data)
        lengths = [len(cap) for cap in captions]
        targets = T.zeros(len(captions), max(lengths)).long()
        for i, cap in enumerate(captions):
            targets[i, :lengths[i]] = cap[:lengths[i]]
        return T.stack(images, 0), targets, lengths

    T.manual_seed(0)
    images, captions, lengths = collate_fn([(T.rand(3, 32, 32), T.randint(1, 20, (n,))) for n in (5, 8, 3, 6)])
    encoder, decoder = EncoderCNN(16), DecoderRNN(16, 24, 20, 1, 6)
    params = list(decoder.parameters()) + list(encoder.linear.parameters()) + list(encoder.bn.parameters())
    optimizer = T.optim.Adam(params, lr=0.001)
    losses = []
    for _ in range(2):
        targets = pack(captions, lengths, batch_first=True)[0]
        loss = nn.CrossEntropyLoss()(decoder(encoder(images), captions, lengths), targets)
        decoder.zero_grad()
        encoder.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    encoder.eval()
    return losses, targets, decoder.sample(encoder(images[:2])), encoder.bn.running_var, decoder.lstm.weight_hh_l0


def _language_model(T):
    """02-intermediate/language_model: an LSTM over a batchified corpus with states detached between
    windows, clip_grad_norm_, then sampling words with torch.multinomial and input.fill_."""
    nn = T.nn

    class RNNLM(nn.Module):
        def __init__(self, vocab_size, embed_size, hidden_size, num_layers):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed_size)
            self.lstm = nn.LSTM(embed_size, hidden_size, num_layers, batch_first=True)
            self.linear = nn.Linear(hidden_size, vocab_size)

        def forward(self, x, h):
            out, (h, c) = self.lstm(self.embed(x), h)
            return self.linear(out.reshape(out.size(0) * out.size(1), out.size(2))), (h, c)
    T.manual_seed(0)
    ids = T.randint(0, 30, (1, 200)).view(4, -1)
    model = RNNLM(30, 12, 16, 2)
    optimizer = T.optim.Adam(model.parameters(), lr=0.002)
    states, losses = (T.zeros(2, 4, 16), T.zeros(2, 4, 16)), []
    for i in range(0, ids.size(1) - 10, 10):
        states = [s.detach() for s in states]
        outputs, states = model(ids[:, i:i + 10], states)
        loss = nn.CrossEntropyLoss()(outputs, ids[:, i + 1:i + 11].reshape(-1))
        model.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
    words = []
    with T.no_grad():
        state = (T.zeros(2, 1, 16), T.zeros(2, 1, 16))
        word = T.multinomial(T.ones(30), num_samples=1).unsqueeze(1)
        for _ in range(20):
            output, state = model(word, state)
            word.fill_(T.multinomial(output.exp(), num_samples=1).item())
            words.append(word.item())
    return losses, words


def _gan_vae_birnn(T):
    """03-advanced/generative_adversarial_network (BCELoss, two optimisers, reset_grad), variational_autoencoder
    (reparameterisation with randn_like, binary_cross_entropy with reduction='sum', the KL term) and
    02-intermediate/bidirectional_recurrent_neural_network, on random 'MNIST' batches."""
    nn, F = T.nn, T.nn.functional
    T.manual_seed(0)
    images, labels = T.rand(16, 1, 28, 28), T.randint(0, 10, (16,))
    D = nn.Sequential(nn.Linear(784, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1),
                      nn.Sigmoid())
    G = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 784), nn.Tanh())
    criterion, d_opt, g_opt = nn.BCELoss(), T.optim.Adam(D.parameters(), 2e-4), T.optim.Adam(G.parameters(), 2e-4)
    seen = []
    for _ in range(3):
        real, fake = T.ones(16, 1), T.zeros(16, 1)
        d_loss = criterion(D(images.reshape(16, -1) * 2 - 1), real) + criterion(D(G(T.randn(16, 16))), fake)
        d_opt.zero_grad()
        g_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = criterion(D(G(T.randn(16, 16))), real)
        d_opt.zero_grad()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        seen.append((d_loss.item(), g_loss.item()))

    class VAE(nn.Module):
        def __init__(self, image_size=784, h_dim=40, z_dim=8):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(image_size, h_dim), nn.Linear(h_dim, z_dim)
            self.fc3 = nn.Linear(h_dim, z_dim)
            self.fc4, self.fc5 = nn.Linear(z_dim, h_dim), nn.Linear(h_dim, image_size)

        def forward(self, x):
            h = F.relu(self.fc1(x))
            mu, log_var = self.fc2(h), self.fc3(h)
            z = mu + T.randn_like(log_var) * T.exp(log_var / 2)
            return F.sigmoid(self.fc5(F.relu(self.fc4(z)))), mu, log_var
    vae = VAE()
    opt = T.optim.Adam(vae.parameters(), lr=1e-3)
    for _ in range(3):
        x = images.view(-1, 784)
        x_reconst, mu, log_var = vae(x)
        reconst = F.binary_cross_entropy(x_reconst, x, reduction='sum')
        kl_div = -0.5 * T.sum(1 + log_var - mu.pow(2) - log_var.exp())
        opt.zero_grad()
        (reconst + kl_div).backward()
        opt.step()
        seen.append((reconst.item(), kl_div.item()))

    class BiRNN(nn.Module):
        def __init__(self, input_size, hidden_size, num_layers, num_classes):
            super().__init__()
            self.hidden_size, self.num_layers = hidden_size, num_layers
            self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(hidden_size * 2, num_classes)

        def forward(self, x):
            h0 = T.zeros(self.num_layers * 2, x.size(0), self.hidden_size)
            out, _ = self.lstm(x, (h0, T.zeros_like(h0)))
            return self.fc(out[:, -1, :])
    rnn = BiRNN(28, 16, 2, 10)
    opt = T.optim.Adam(rnn.parameters(), lr=0.01)
    for _ in range(2):
        loss = nn.CrossEntropyLoss()(rnn(images.reshape(-1, 28, 28)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(loss.item())
    return seen, G[2].weight, vae.fc5.bias, rnn.lstm.weight_ih_l1_reverse


def _style_and_resnet(T):
    """03-advanced/neural_style_transfer (features picked by layer name, Gram matrices, Adam on the image, the
    denormalising Normalize) on a small VGG of torchvision's make_layers, and 02-intermediate/
    deep_residual_network (Pad/RandomHorizontalFlip/RandomCrop on PIL images, update_lr between epochs)."""
    nn, V = T.nn, _vision(T)
    T.manual_seed(0)
    vgg = V.models.vgg.make_layers([8, 8, 'M', 16, 16, 'M', 32]).eval()
    content, style = T.rand(1, 3, 32, 32), T.rand(1, 3, 32, 32)
    target = content.clone().requires_grad_(True)
    optimizer = T.optim.Adam([target], lr=0.003, betas=[0.5, 0.999])

    def features(x):
        picked = []
        for name, layer in vgg._modules.items():
            x = layer(x)
            if name in ('0', '5', '10'):
                picked.append(x)
        return picked
    seen = []
    for _ in range(2):
        style_loss = content_loss = 0
        for f1, f2, f3 in zip(features(target), features(content), features(style)):
            content_loss += T.mean((f1 - f2) ** 2)
            _, c, h, w = f1.size()
            f1, f3 = f1.view(c, h * w), f3.view(c, h * w)
            style_loss += T.mean((T.mm(f1, f1.t()) - T.mm(f3, f3.t())) ** 2) / (c * h * w)
        loss = content_loss + 100 * style_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen.append((content_loss.item(), style_loss.item()))
    img = V.transforms.Normalize((-2.12, -2.04, -1.80), (4.37, 4.46, 4.44))(target.clone().squeeze()).clamp_(0, 1)

    def conv3x3(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)

    class ResidualBlock(nn.Module):
        def __init__(self, cin, cout, stride=1, downsample=None):
            super().__init__()
            self.conv1, self.bn1, self.relu = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
            self.conv2, self.bn2, self.downsample = conv3x3(cout, cout), nn.BatchNorm2d(cout), downsample

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            out += self.downsample(x) if self.downsample else x
            return self.relu(out)
    down = nn.Sequential(conv3x3(8, 16, stride=2), nn.BatchNorm2d(16))
    model = nn.Sequential(conv3x3(3, 8), nn.BatchNorm2d(8), nn.ReLU(inplace=True), ResidualBlock(8, 8),
                          ResidualBlock(8, 16, 2, down), nn.AvgPool2d(8), nn.Flatten(), nn.Linear(16, 10))
    transform = V.transforms.Compose([V.transforms.Pad(4), V.transforms.RandomHorizontalFlip(),
                                      V.transforms.RandomCrop(16), V.transforms.ToTensor()])
    from PIL import Image
    rng = np.random.RandomState(0)
    batch = T.stack([transform(Image.fromarray((rng.rand(16, 16, 3) * 255).astype(np.uint8))) for _ in range(4)])
    lr = 0.001
    optimizer = T.optim.Adam(model.parameters(), lr=lr)
    for _ in range(2):
        loss = nn.CrossEntropyLoss()(model(batch), T.tensor([1, 2, 3, 4]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen.append(loss.item())
        lr /= 3
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
    return seen, img, batch, model[-1].weight, optimizer.param_groups[0]['lr']


@pytest.mark.parametrize('program', [_captioning, _language_model, _gan_vae_birnn, _style_and_resnet],
                         ids=['image-captioning', 'language-model', 'gan-vae-birnn', 'style-resnet'])
def test_yunjey_pytorch_tutorial(program):
    want, got = _both(program)
    _same_tree(got, want, atol=1e-5, rtol=1e-4)


# -- mrdbourke/pytorch-deep-learning ----------------------------------------------------------------------
def _tinyvgg(T):
    nn = T.nn

    class TinyVGG(nn.Module):
        def __init__(self, input_shape, hidden_units, output_shape):
            super().__init__()

            def block(cin):
                return nn.Sequential(nn.Conv2d(cin, hidden_units, kernel_size=3, stride=1, padding=1), nn.ReLU(),
                                     nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
                                     nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.conv_block_1, self.conv_block_2 = block(input_shape), block(hidden_units)
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden_units * 8 * 8, output_shape))

        def forward(self, x):
            return self.classifier(self.conv_block_2(self.conv_block_1(x)))
    return TinyVGG


def _engine(T, model, train_dataloader, test_dataloader, epochs):
    """going_modular/engine.py: train_step, test_step (inference_mode) and train's results dict."""
    loss_fn, optimizer = T.nn.CrossEntropyLoss(), T.optim.Adam(params=model.parameters(), lr=0.001)
    results = {'train_loss': [], 'train_acc': [], 'test_loss': [], 'test_acc': []}
    for _ in range(epochs):
        model.train()
        train_loss = train_acc = 0
        for X, y in train_dataloader:
            y_pred = model(X)
            loss = loss_fn(y_pred, y)
            train_loss += loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_acc += (T.argmax(T.softmax(y_pred, dim=1), dim=1) == y).sum().item() / len(y_pred)
        model.eval()
        test_loss = test_acc = 0
        with T.inference_mode():
            for X, y in test_dataloader:
                logits = model(X)
                test_loss += loss_fn(logits, y).item()
                test_acc += (logits.argmax(dim=1) == y).sum().item() / len(logits)
        for key, value in zip(results, (train_loss / len(train_dataloader), train_acc / len(train_dataloader),
                                        test_loss / len(test_dataloader), test_acc / len(test_dataloader))):
            results[key].append(value)
    return results


def _image_folders(root):
    from PIL import Image
    rng = np.random.RandomState(0)
    for split in ('train', 'test'):
        for cls in ('pizza', 'steak', 'sushi'):
            (root / split / cls).mkdir(parents=True)
            for i in range(4):
                Image.fromarray((rng.rand(40, 36, 3) * 255).astype(np.uint8)).save(root / split / cls / f'{i}.jpg')


def test_mrdbourke_custom_datasets_and_engine(tmp_path):
    """Notebooks 04-05: ImageFolder on generated JPEGs with TrivialAugmentWide(num_magnitude_bins=31), shuffled
    DataLoaders, TinyVGG trained by engine.py for three epochs."""
    _image_folders(tmp_path)

    def run(T):
        V = _vision(T)
        T.manual_seed(42)
        train_tf = V.transforms.Compose([V.transforms.Resize((32, 32)),
                                         V.transforms.TrivialAugmentWide(num_magnitude_bins=31),
                                         V.transforms.ToTensor()])
        test_tf = V.transforms.Compose([V.transforms.Resize((32, 32)), V.transforms.ToTensor()])
        train_data = V.datasets.ImageFolder(tmp_path / 'train', transform=train_tf)
        test_data = V.datasets.ImageFolder(root=tmp_path / 'test', transform=test_tf, target_transform=None)
        first = train_data[0]
        train_dl = T.utils.data.DataLoader(train_data, batch_size=4, shuffle=True, num_workers=0)
        test_dl = T.utils.data.DataLoader(test_data, batch_size=4, shuffle=False)
        T.manual_seed(42)
        model = _tinyvgg(T)(input_shape=3, hidden_units=10, output_shape=len(train_data.classes))
        results = _engine(T, model, train_dl, test_dl, 3)
        return train_data.classes, train_data.class_to_idx, first, results, model.classifier[1].bias
    want, got = _both(run)
    _same_tree(got, want, atol=1e-5, rtol=1e-4)


def _torchinfo(T):
    """torchinfo as a program importing it sees it (it binds ``torch`` at import, as einops' layers do)."""
    stale = [n for n in sys.modules if n.split('.')[0] == 'torchinfo']
    for name in stale:
        del sys.modules[name]
    try:
        if T is torch:
            return importlib.import_module('torchinfo')
        with aliasing.as_torch():
            return importlib.import_module('torchinfo')
    finally:
        for name in [n for n in sys.modules if n.split('.')[0] == 'torchinfo']:
            del sys.modules[name]


def test_mrdbourke_torchinfo_summaries():
    """Notebooks 04 and 06: torchinfo's summary of TinyVGG, and of one with frozen features and a new head with
    the column and row settings of notebook 06: the same table, sizes in MB included."""
    def run(T):
        summary = _torchinfo(T).summary
        T.manual_seed(42)
        model = _tinyvgg(T)(3, 10, 3)
        first = str(summary(model, input_size=[1, 3, 32, 32], verbose=0))
        for param in model.conv_block_1.parameters():
            param.requires_grad = False
        model.classifier = T.nn.Sequential(T.nn.Flatten(), T.nn.Dropout(p=0.2, inplace=True),
                                           T.nn.Linear(in_features=640, out_features=3, bias=True))
        second = str(summary(model=model, input_size=(4, 3, 32, 32), verbose=0,
                             col_names=['input_size', 'output_size', 'num_params', 'trainable'], col_width=20,
                             row_settings=['var_names']))
        return first, second
    want, got = _both(run)
    assert got == want


def _mae_navit(T):
    """vit_pytorch's MAE (random masking by argsort of uniforms, batch_range fancy indexing, mask tokens with
    their positions) pretraining a ViT, and NaViT (patch-n'-pack of images of several sizes: pad_sequence,
    F.pad of image ids, top-k token dropout, block-diagonal attention masks by masked_fill with -finfo.max,
    query-normalised attention pooling)."""
    nn, F = T.nn, T.nn.functional
    ViT, _, Transformer = _vit_classes(T, _einops_layers(T))
    rearrange, repeat = einops.rearrange, einops.repeat

    class MAE(nn.Module):
        def __init__(self, encoder, decoder_dim, masking_ratio=0.75):
            super().__init__()
            self.encoder, self.masking_ratio = encoder, masking_ratio
            num_patches, encoder_dim = encoder.pos_embedding.shape[-2:]
            self.to_patch, self.patch_to_emb = encoder.to_patch_embedding[0], encoder.to_patch_embedding[1:]
            self.enc_to_dec = nn.Linear(encoder_dim, decoder_dim)
            self.mask_token = nn.Parameter(T.randn(decoder_dim))
            self.decoder = Transformer(decoder_dim, 1, 2, 8, decoder_dim * 4)
            self.decoder_pos_emb = nn.Embedding(num_patches, decoder_dim)
            self.to_pixels = nn.Linear(decoder_dim, encoder.to_patch_embedding[2].weight.shape[-1])

        def forward(self, img):
            patches = self.to_patch(img)
            batch, num_patches, *_ = patches.shape
            tokens = self.patch_to_emb(patches) + self.encoder.pos_embedding[:, 1:(num_patches + 1)]
            num_masked = int(self.masking_ratio * num_patches)
            rand_indices = T.rand(batch, num_patches, device=img.device).argsort(dim=-1)
            masked, unmasked = rand_indices[:, :num_masked], rand_indices[:, num_masked:]
            batch_range = T.arange(batch, device=img.device)[:, None]
            encoded = self.encoder.transformer(tokens[batch_range, unmasked])
            decoder_tokens = self.enc_to_dec(encoded) + self.decoder_pos_emb(unmasked)
            mask_tokens = repeat(self.mask_token, 'd -> b n d', b=batch, n=num_masked) + self.decoder_pos_emb(masked)
            decoded = self.decoder(T.cat((mask_tokens, decoder_tokens), dim=1))
            return F.mse_loss(self.to_pixels(decoded[:, :num_masked]), patches[batch_range, masked])

    class LayerNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.gamma = nn.Parameter(T.ones(dim))
            self.register_buffer('beta', T.zeros(dim))

        def forward(self, x):
            return F.layer_norm(x, x.shape[-1:], self.gamma, self.beta)

    class RMSNorm(nn.Module):
        def __init__(self, heads, dim):
            super().__init__()
            self.scale, self.gamma = dim ** 0.5, nn.Parameter(T.ones(heads, 1, dim))

        def forward(self, x):
            return F.normalize(x, dim=-1) * self.scale * self.gamma

    class Attention(nn.Module):
        def __init__(self, dim, heads, dim_head, dropout=0.):
            super().__init__()
            self.heads, self.norm = heads, LayerNorm(dim)
            self.q_norm, self.k_norm = RMSNorm(heads, dim_head), RMSNorm(heads, dim_head)
            self.dropout = nn.Dropout(dropout)
            self.to_q = nn.Linear(dim, dim_head * heads, bias=False)
            self.to_kv = nn.Linear(dim, dim_head * heads * 2, bias=False)
            self.to_out = nn.Linear(dim_head * heads, dim, bias=False)

        def forward(self, x, context=None, attn_mask=None):
            x = self.norm(x)
            qkv = (self.to_q(x), *self.to_kv(x if context is None else context).chunk(2, dim=-1))
            q, k, v = map(lambda t: rearrange(t, 'b n (h d) -> b h n d', h=self.heads), qkv)
            dots = T.matmul(self.q_norm(q), self.k_norm(k).transpose(-1, -2))
            dots = dots.masked_fill(~attn_mask, -T.finfo(dots.dtype).max)
            out = T.matmul(self.dropout(dots.softmax(dim=-1)), v)
            return self.to_out(rearrange(out, 'b h n d -> b n (h d)'))

    class NaViT(nn.Module):
        def __init__(self, size, p, num_classes, dim, depth, heads, dim_head, token_dropout_prob):
            super().__init__()
            self.p, self.token_dropout_prob = p, token_dropout_prob
            self.to_patch_embedding = nn.Sequential(LayerNorm(3 * p * p), nn.Linear(3 * p * p, dim), LayerNorm(dim))
            self.pos_h, self.pos_w = nn.Parameter(T.randn(size // p, dim)), nn.Parameter(T.randn(size // p, dim))
            self.dropout = nn.Dropout(0.1)
            self.layers = nn.ModuleList([nn.ModuleList([
                Attention(dim, heads, dim_head, 0.1),
                nn.Sequential(LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))])
                for _ in range(depth)])
            self.norm = LayerNorm(dim)
            self.attn_pool_queries = nn.Parameter(T.randn(dim))
            self.attn_pool = Attention(dim, heads, dim_head)
            self.mlp_head = nn.Sequential(LayerNorm(dim), nn.Linear(dim, num_classes, bias=False))

        def forward(self, batched_images):
            pad = partial(T.nn.utils.rnn.pad_sequence, batch_first=True)
            num_images, seqs, positions, ids = [], [], [], []
            for images in batched_images:
                num_images.append(len(images))
                image_ids, group_seqs, group_pos = T.empty((0,), dtype=T.long), [], []
                for image_id, image in enumerate(images):
                    ph, pw = (d // self.p for d in image.shape[-2:])
                    pos = rearrange(T.stack(T.meshgrid((T.arange(ph), T.arange(pw)), indexing='ij'), dim=-1),
                                    'h w c -> (h w) c')
                    seq = rearrange(image, 'c (h p1) (w p2) -> (h w) (c p1 p2)', p1=self.p, p2=self.p)
                    keep = T.randn((seq.shape[-2],)).topk(max(1, int(seq.shape[-2] * (1 - self.token_dropout_prob))),
                                                          dim=-1).indices
                    seq, pos = seq[keep], pos[keep]
                    image_ids = F.pad(image_ids, (0, seq.shape[-2]), value=image_id)
                    group_seqs.append(seq)
                    group_pos.append(pos)
                ids.append(image_ids)
                seqs.append(T.cat(group_seqs, dim=0))
                positions.append(T.cat(group_pos, dim=0))
            lengths = T.tensor([s.shape[-2] for s in seqs], dtype=T.long)
            key_pad_mask = rearrange(lengths, 'b -> b 1') > rearrange(T.arange(lengths.amax().item()), 'n -> 1 n')
            ids = pad(ids)
            attn_mask = rearrange(ids, 'b i -> b 1 i 1') == rearrange(ids, 'b j -> b 1 1 j')
            attn_mask = attn_mask & rearrange(key_pad_mask, 'b j -> b 1 1 j')
            h_idx, w_idx = pad(positions).unbind(dim=-1)
            x = self.dropout(self.to_patch_embedding(pad(seqs)) + self.pos_h[h_idx] + self.pos_w[w_idx])
            for attn, ff in self.layers:
                x = attn(x, attn_mask=attn_mask) + x
                x = ff(x) + x
            x = self.norm(x)
            num_images = T.tensor(num_images, dtype=T.long)
            queries = repeat(self.attn_pool_queries, 'd -> b n d', n=num_images.amax().item(), b=x.shape[0])
            arange = T.arange(num_images.amax().item())
            pool_mask = (rearrange(arange, 'i -> i 1') == rearrange(ids, 'b j -> b 1 j')) & rearrange(
                key_pad_mask, 'b j -> b 1 j')
            x = self.attn_pool(queries, context=x, attn_mask=rearrange(pool_mask, 'b i j -> b 1 i j')) + queries
            x = rearrange(x, 'b n d -> (b n) d')[rearrange(arange < rearrange(num_images, 'b -> b 1'), 'b n -> (b n)')]
            return self.mlp_head(x)

    T.manual_seed(0)
    vit = ViT(image_size=16, patch_size=4, num_classes=5, dim=32, depth=2, heads=4, mlp_dim=64, dim_head=8)
    mae = MAE(vit, decoder_dim=16)
    opt, images, seen = T.optim.Adam(mae.parameters(), lr=1e-3), T.randn(4, 3, 16, 16), []
    for _ in range(3):
        loss = mae(images)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(loss.item())
    navit = NaViT(16, 4, 5, dim=32, depth=2, heads=4, dim_head=8, token_dropout_prob=0.1)
    opt = T.optim.Adam(navit.parameters(), lr=1e-3)
    groups = [[T.randn(3, 16, 8), T.randn(3, 8, 16)], [T.randn(3, 16, 16)],
              [T.randn(3, 8, 8), T.randn(3, 4, 12), T.randn(3, 12, 4)]]
    for _ in range(3):
        loss = F.cross_entropy(navit(groups), T.tensor([0, 1, 2, 3, 4, 0]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(loss.item())
    navit.eval()
    with T.no_grad():
        logits = navit(groups)
    return seen, vit.pos_embedding, logits


def test_vit_pytorch_mae_and_navit():
    want, got = _both(_mae_navit)
    _same_tree(got, want, atol=1e-5, rtol=1e-4)
