"""Real public model code run on ember against PyTorch (session 32), each reduced to the lines that found a
defect: lucidrains/performer-pytorch's reversible layers (performer_pytorch/reversible.py, RevTorch's pattern:
``torch.cuda._initialized`` and ``torch.utils.checkpoint.get_device_states`` around a custom Function whose
backward reruns each block with the forward's random state). Each runs with the same seed on both libraries and
is compared value for value. facebookresearch/detr: ``torchvision.models._utils`` (IntermediateLayerGetter) and
``torchvision._is_tracing`` under the alias, ``torchvision.ops.misc.interpolate`` in its mask losses."""
import pytest
import torch

import ember
from ember import aliasing
from helpers import assert_same, import_torchvision


# -- performer-pytorch: reversible blocks ----------------------------------------------------------------------
def _reversible(T):
    """performer_pytorch/reversible.py's Deterministic, ReversibleBlock and _ReversibleFunction, reduced."""
    nn = T.nn
    from_checkpoint = T.utils.checkpoint

    class Deterministic(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net, self.cpu_state, self.cuda_in_fwd = net, None, None

        def record_rng(self, *args):
            self.cpu_state = T.get_rng_state()
            if T.cuda._initialized:
                self.cuda_in_fwd = True
                self.gpu_devices, self.gpu_states = from_checkpoint.get_device_states(*args)

        def forward(self, *args, record_rng=False, set_rng=False):
            if record_rng:
                self.record_rng(*args)
            if not set_rng:
                return self.net(*args)
            with T.random.fork_rng(devices=[], enabled=True):
                T.set_rng_state(self.cpu_state)
                if self.cuda_in_fwd:
                    from_checkpoint.set_device_states(self.gpu_devices, self.gpu_states)
                return self.net(*args)

    class ReversibleBlock(nn.Module):
        def __init__(self, f, g):
            super().__init__()
            self.f, self.g = Deterministic(f), Deterministic(g)

        def forward(self, x):
            x1, x2 = T.chunk(x, 2, dim=2)
            with T.no_grad():
                y1 = x1 + self.f(x2, record_rng=self.training)
                y2 = x2 + self.g(y1, record_rng=self.training)
            return T.cat([y1, y2], dim=2)

        def backward_pass(self, y, dy):
            y1, y2 = T.chunk(y, 2, dim=2)
            dy1, dy2 = T.chunk(dy, 2, dim=2)
            with T.enable_grad():
                y1.requires_grad = True
                gy1 = self.g(y1, set_rng=True)
                T.autograd.backward(gy1, dy2)
            with T.no_grad():
                x2 = y2 - gy1
                dx1 = dy1 + y1.grad
                y1.grad = None
            with T.enable_grad():
                x2.requires_grad = True
                fx2 = self.f(x2, set_rng=True)
                T.autograd.backward(fx2, dx1, retain_graph=True)
            with T.no_grad():
                x1 = y1 - fx2
                dx2 = dy2 + x2.grad
                x2.grad = None
                return T.cat([x1, x2.detach()], dim=2), T.cat([dx1, dx2], dim=2)

    class ReversibleFunction(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, blocks):
            for block in blocks:
                x = block(x)
            ctx.y, ctx.blocks = x.detach(), blocks
            return x

        @staticmethod
        def backward(ctx, dy):
            y = ctx.y
            for block in ctx.blocks[::-1]:
                y, dy = block.backward_pass(y, dy)
            return dy, None

    class ReversibleSequence(nn.Module):
        def __init__(self, blocks):
            super().__init__()
            self.blocks = nn.ModuleList([ReversibleBlock(f, g) for f, g in blocks])

        def forward(self, x):
            out = ReversibleFunction.apply(T.cat([x, x], dim=-1), self.blocks)
            return T.stack(out.chunk(2, dim=-1)).sum(dim=0)
    return ReversibleSequence


@pytest.mark.parametrize('p', [0.0, 0.3])
def test_performer_reversible_sequence(p):
    """Two reversible blocks (dropout inside, so the rerun must replay the forward's random state): the
    output, the input's gradient and every weight's gradient match PyTorch's."""
    def run(T):
        T.manual_seed(0)
        nn = T.nn
        blocks = [(nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 4), nn.Dropout(p)),
                   nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Dropout(p), nn.Linear(8, 4))) for _ in range(2)]
        net = _reversible(T)(blocks)
        x = T.randn(2, 3, 4, requires_grad=True)
        out = net(x)
        (out * T.arange(24.).reshape(2, 3, 4)).sum().backward()
        return [out, x.grad] + [q.grad for q in net.parameters()]
    want, got = run(torch), run(ember)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, 1e-5, 1e-4, f'result {i}')


# -- facebookresearch/detr: the backbone through torchvision's private helpers -----------------------------------
_DETR = '''
import torch, torchvision
import torch.nn.functional as F
from torchvision.models._utils import IntermediateLayerGetter


class FrozenBatchNorm2d(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        for name, fill in (("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)):
            self.register_buffer(name, torch.full((n,), float(fill)))

    def forward(self, x):
        scale = self.weight.reshape(1, -1, 1, 1) * (self.running_var.reshape(1, -1, 1, 1) + 1e-5).rsqrt()
        return x * scale + (self.bias.reshape(1, -1, 1, 1) - self.running_mean.reshape(1, -1, 1, 1) * scale)


def nested_tensor_from_tensor_list(tensor_list):
    assert not torchvision._is_tracing()
    c = max(t.shape[0] for t in tensor_list)
    h, w = max(t.shape[1] for t in tensor_list), max(t.shape[2] for t in tensor_list)
    tensor = torch.zeros([len(tensor_list), c, h, w])
    mask = torch.ones((len(tensor_list), h, w), dtype=torch.bool)
    for img, pad_img, m in zip(tensor_list, tensor, mask):
        pad_img[: img.shape[0], : img.shape[1], : img.shape[2]].copy_(img)
        m[: img.shape[1], :img.shape[2]] = False
    return tensor, mask


def backbone():
    net = torchvision.models.resnet18(replace_stride_with_dilation=[False, False, False],
                                      norm_layer=FrozenBatchNorm2d)
    return IntermediateLayerGetter(net, return_layers={"layer2": "0", "layer4": "1"})


def features(body, tensor_list):
    tensors, m = nested_tensor_from_tensor_list(tensor_list)
    out = {}
    for name, x in body(tensors).items():
        out[name] = (x, F.interpolate(m[None].float(), size=x.shape[-2:]).to(torch.bool)[0])
    return out, torchvision._is_tracing(), torch._C._get_tracing_state()


def mask_losses(src_masks, target_masks):
    src = torchvision.ops.misc.interpolate(src_masks[:, None], size=target_masks.shape[-2:], mode="bilinear",
                                           align_corners=False)[:, 0].flatten(1)
    target = target_masks.flatten(1).to(src)
    prob = src.sigmoid()
    ce = F.binary_cross_entropy_with_logits(src, target, reduction="none")
    p_t = prob * target + (1 - prob) * (1 - target)
    focal = (0.25 * target + 0.75 * (1 - target)) * ce * ((1 - p_t) ** 2)
    dice = 1 - (2 * (prob * target).sum(1) + 1) / (prob.sum(-1) + target.sum(-1) + 1)
    return focal.mean(1).sum() / 2, dice.sum() / 2
'''


def test_detr_backbone_through_torchvision_private_helpers():
    """DETR's models/backbone.py imports ``torchvision.models._utils.IntermediateLayerGetter`` and its
    util/misc.py asks ``torchvision._is_tracing()``: under the alias both resolve to ember's, and the backbone
    (PyTorch's weights loaded) returns PyTorch's feature maps and padding masks."""
    import_torchvision()
    ns_t, ns_e = {}, {}
    exec(_DETR, ns_t)
    with aliasing.as_torch():
        exec(_DETR, ns_e)
    torch.manual_seed(0)
    body_t, body_e = ns_t['backbone'](), ns_e['backbone']()
    body_e.load_state_dict({k: ember.from_numpy(v.numpy().copy()) for k, v in body_t.state_dict().items()})
    imgs = [torch.randn(3, 40, 32), torch.randn(3, 32, 36)]
    want = ns_t['features'](body_t, imgs)
    got = ns_e['features'](body_e, [ember.from_numpy(x.numpy().copy()) for x in imgs])
    assert got[1:] == want[1:] == (None, None)
    assert list(got[0]) == list(want[0]) == ['0', '1']
    assert repr(body_e) == repr(body_t)
    for k in want[0]:
        for g, w in zip(got[0][k], want[0][k]):
            assert_same(g, w, 1e-4, 1e-4, k)


def test_detr_mask_losses_through_torchvision_ops_misc_interpolate():
    """DETR's segmentation loss upsamples mask logits with ``torchvision.ops.misc.interpolate`` (PyTorch's
    ``F.interpolate`` under torchvision's old name) before its focal and dice losses: values and gradients."""
    import_torchvision()
    ns_t, ns_e = {}, {}
    exec(_DETR, ns_t)
    with aliasing.as_torch():
        exec(_DETR, ns_e)
    got, want = [], []
    for T, ns, out in ((torch, ns_t, want), (ember, ns_e, got)):
        T.manual_seed(0)
        src = T.randn(3, 5, 6, requires_grad=True)
        target = T.rand(3, 10, 12) > 0.5
        focal, dice = ns['mask_losses'](src, target)
        (focal + dice).backward()
        out += [focal, dice, src.grad]
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, 1e-5, 1e-4, f'result {i}')


# -- vincentherrmann/pytorch-wavenet: a pre-0.4 autograd Function called as an instance ---------------------------
def test_legacy_function_instance_call_refused_like_pytorch():
    """wavenet_modules.py's ``ConstantPad1d(target_size, ...)(input)``: a Function with a non-static forward,
    instantiated (PyTorch's DeprecationWarning, word for word) and called (PyTorch's RuntimeError, not a
    TypeError); a NestedIOFunction instance call fails as PyTorch's does."""
    import warnings

    def run(T, base='Function'):
        class ConstantPad1d(getattr(T.autograd.function, base)):
            def __init__(self, target_size):
                super().__init__()
                self.target_size = target_size

            def forward(self, input):
                return T.nn.functional.pad(input, (self.target_size - input.shape[-1], 0))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            pad = ConstantPad1d(4)
        assert [x.category for x in w] == [DeprecationWarning] and w[0].filename == __file__
        msg = str(w[0].message)
        try:
            pad(T.ones(1, 2, 3))
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            return msg, type(e), str(e)
    for base in ('Function', 'NestedIOFunction'):
        assert run(ember, base) == run(torch, base)


# -- pyg-team/pytorch_geometric: torch.__config__ ----------------------------------------------------------------
def test_config_show_and_parallel_info():
    """PyG's torch_geometric/typing.py runs ``'USE_MKL=OFF' in torch.__config__.show()`` at import: ember's build
    description has PyTorch's layout (header, ``  - item`` lines, a Build settings line) and says MKL is off;
    ``parallel_info`` reports the thread count as PyTorch's does, and the module imports under the alias."""
    show_t, show_e = torch.__config__.show(), ember.__config__.show()
    assert show_e.startswith('PyTorch built with:\n  - ') and show_t.startswith('PyTorch built with:\n  - ')
    assert all(line.startswith('  - ') for line in show_e.splitlines()[1:])
    settings = [line for line in show_e.splitlines() if line.startswith('  - Build settings: ')]
    assert len(settings) == 1 and 'USE_MKL=OFF' in settings[0] and 'USE_CUDA=OFF' in settings[0]
    head = 'ATen/Parallel:\n\tat::get_num_threads() : '
    info_t, info_e = torch.__config__.parallel_info(), ember.__config__.parallel_info()
    assert info_e.startswith(head) and info_t.startswith(head)
    assert info_e.splitlines()[1] == f'\tat::get_num_threads() : {ember.get_num_threads()}'
    assert ember.__config__._cxx_flags() == ''
    with aliasing.as_torch():
        import torch.__config__ as config
        assert config is ember.__config__ and 'USE_MKL=OFF' in config.show()


# -- openai/guided-diffusion: fp16_util's master parameters through torch._utils --------------------------------
_FP16_UTIL = '''
import torch as th
import torch.nn as nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


def make_master_params(param_groups_and_shapes):
    master_params = []
    for param_group, shape in param_groups_and_shapes:
        master_param = nn.Parameter(_flatten_dense_tensors([p.detach().float() for (_, p) in param_group]).view(shape))
        master_param.requires_grad = True
        master_params.append(master_param)
    return master_params


def model_grads_to_master_grads(param_groups_and_shapes, master_params):
    for master_param, (param_group, shape) in zip(master_params, param_groups_and_shapes):
        master_param.grad = _flatten_dense_tensors([p.grad.float() for (_, p) in param_group]).view(shape)


def master_params_to_model_params(param_groups_and_shapes, master_params):
    for master_param, (param_group, _) in zip(master_params, param_groups_and_shapes):
        flat = master_param.view(-1)
        for (_, p), unflat in zip(param_group, _unflatten_dense_tensors(flat, [p for (_, p) in param_group])):
            p.detach().copy_(unflat)


def run():
    th.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(12, 2))
    net[0].weight.data = net[0].weight.data.half()
    net[0].bias.data = net[0].bias.data.half()
    named = list(net.named_parameters())
    groups = [([(n, p) for n, p in named if p.ndim > 1], (-1,)), ([(n, p) for n, p in named if p.ndim <= 1], (1, -1))]
    master = make_master_params(groups)
    x = th.randn(2, 2, 4, 4)
    loss = net[2](net[1](net[0](x.half()).float())).square().sum()
    loss.backward()
    model_grads_to_master_grads(groups, master)
    opt = th.optim.SGD(master, lr=0.1)
    opt.step()
    master_params_to_model_params(groups, master)
    one = _flatten_dense_tensors([net[2].bias])
    views = _unflatten_dense_tensors(th.arange(10.), [th.zeros(2, 3), th.zeros(4)])
    return ([m.detach() for m in master] + [m.grad for m in master] + [p.detach().float() for p in net.parameters()]
            + list(views) + [one, one.grad_fn is not None, views[0]._base is not None,
                             _flatten_dense_tensors([th.ones(2), th.arange(2)]).dtype])
'''


def test_guided_diffusion_master_params_through_torch_utils():
    """guided_diffusion/fp16_util.py imports ``_flatten_dense_tensors``/``_unflatten_dense_tensors`` from
    ``torch._utils``: master weights flattened from a half-precision model, gradients copied in, an SGD step,
    and the result copied back through the unflattened views all match PyTorch."""
    ns_t, ns_e = {}, {}
    exec(_FP16_UTIL, ns_t)
    with aliasing.as_torch():
        exec(_FP16_UTIL, ns_e)
    want, got = ns_t['run'](), ns_e['run']()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, torch.Tensor):
            assert_same(g, w, 1e-3, 1e-3, f'result {i}')
        else:
            assert repr(g).replace('ember', 'torch') == repr(w), i
    with pytest.raises(ValueError, match='non-empty'):
        ember._utils._flatten_dense_tensors([])


_PYG = '''
import re
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.jit import _overload as overload
from torch._tensor_str import PRINT_OPTS, _tensor_str


@overload
def sort_edge_index(edge_index: Tensor, edge_attr: None = None, num_nodes: Optional[int] = None) -> Tensor:
    pass


@overload
def sort_edge_index(edge_index: Tensor, edge_attr: Tensor, num_nodes: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    pass


def sort_edge_index(edge_index, edge_attr=None, num_nodes=None):
    num_nodes = int(edge_index.max()) + 1 if num_nodes is None else num_nodes
    perm = (edge_index[0] * num_nodes + edge_index[1]).argsort()
    edge_index = edge_index[:, perm]
    return edge_index if edge_attr is None else (edge_index, edge_attr[perm])


def write_off(pos, face):
    num_nodes, num_faces = pos.size(0), face.size(1)
    pos, face = pos.to(torch.float), face.t()
    face = torch.cat([torch.full((num_faces, 1), face.size(1), dtype=torch.long), face], dim=-1)
    threshold = PRINT_OPTS.threshold
    torch.set_printoptions(threshold=float('inf'))
    pos_repr = re.sub(',', '', _tensor_str(pos, indent=0))
    pos_repr = '\\n'.join([x[2:-1] for x in pos_repr.split('\\n')])[:-1]
    face_repr = re.sub(',', '', _tensor_str(face, indent=0))
    face_repr = '\\n'.join([x[2:-1] for x in face_repr.split('\\n')])[:-1]
    torch.set_printoptions(threshold=threshold)
    return 'OFF\\n{} {} 0\\n'.format(num_nodes, num_faces) + pos_repr + '\\n' + face_repr


def run():
    ei = torch.tensor([[2, 0, 1, 0], [0, 1, 2, 2]])
    pos = torch.arange(12.).reshape(4, 3) / 3
    face = torch.tensor([[0, 1], [1, 2], [2, 3]])
    return (sort_edge_index(ei), sort_edge_index(ei, torch.arange(4.)), write_off(pos, face), PRINT_OPTS.threshold,
            [_tensor_str(t, indent=i) for i, t in enumerate([pos, torch.zeros(0), torch.tensor([1.5], dtype=torch.bfloat16)])])
'''


def test_pyg_overload_declarations_and_tensor_str():
    """torch_geometric/utils/_sort_edge_index.py declares typed variants with ``torch.jit._overload`` before the
    real definition, and io/off.py writes meshes through ``torch._tensor_str._tensor_str`` with ``PRINT_OPTS``:
    both import under the alias and give PyTorch's results, text for text."""
    ns_t, ns_e = {'__name__': 'pyg_program'}, {'__name__': 'pyg_program'}
    exec(_PYG, ns_t)
    with aliasing.as_torch():
        exec(_PYG, ns_e)
    want, got = ns_t['run'](), ns_e['run']()
    assert_same(got[0], want[0], what='sorted edge_index')
    for g, w in zip(got[1], want[1]):
        assert_same(g, w, what='sorted edge_index and attributes')
    assert got[2:] == want[2:]
