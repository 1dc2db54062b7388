"""Real PyTorch programs under the alias against PyTorch (session 42, lane realE): Karpathy's llm.c train_gpt2.py
(tiny config, synthetic tokens), makemore.py and minGPT, among others; each defect found is reduced here to the
lines that found it (the programs themselves are not needed)."""
import importlib

import pytest
import torch

import ember
from ember import aliasing


def _aliased(name):
    """Module ``name`` as a script importing it under the alias gets it."""
    with aliasing.as_torch():
        return importlib.import_module(name)


# -- llm.c train_gpt2.py: ``import torch._inductor.config as config`` at the top, set when --compile=1 --------------
@pytest.mark.parametrize('name', ['torch._inductor.config', 'torch._dynamo.config'])
def test_compiler_config_modules_import_and_keep_settings(name):
    """llm.c imports torch._inductor.config (and sets coordinate_descent_tuning); scripts import torch._dynamo.config
    the same way. ember refused both imports ('ember has no counterpart of it'). Every setting ember keeps has
    PyTorch's default; unknown names and patch() behave as PyTorch's."""
    real, ours = importlib.import_module(name), _aliased(name)
    settings = ours.get_config_copy()
    assert len(settings) > 10
    for key, value in settings.items():
        assert value == eval(f'real.{key}'), key
    for config in (real, ours):
        for bad in ('nonexistent_option', 'triton.nonexistent_option') if 'inductor' in name else ('nonexistent_option',):
            holder, _, attr = ('config.' + bad).rpartition('.')
            with pytest.raises(AttributeError, match=rf'^{name}.{bad} does not exist$'):
                setattr(eval(holder), attr, 1)
            with pytest.raises(AttributeError, match=rf'^{name}.{bad} does not exist$'):
                getattr(eval(holder), attr)
    key = 'coordinate_descent_tuning' if 'inductor' in name else 'suppress_errors'
    for config in (real, ours):
        with config.patch(key, True):
            assert getattr(config, key) is True
        assert getattr(config, key) is False

        @config.patch({key: True})
        def read():
            return getattr(config, key)
        assert read() is True and getattr(config, key) is False
        setattr(config, key, True)
        assert getattr(config, key) is True
        setattr(config, key, False)


def test_compiler_config_is_the_package_attribute():
    """``import torch._inductor.config as config`` and ``torch._inductor.config`` are one module, as in PyTorch."""
    with aliasing.as_torch():
        config = importlib.import_module('torch._inductor.config')
        t = importlib.import_module('torch')
        from torch._inductor import config as again
        assert t._inductor.config is config is again is ember._inductor.config
        assert t._dynamo.config is importlib.import_module('torch._dynamo.config')


# -- lpips 0.1.4: ``tv.alexnet(pretrained=False)`` (pnet_rand), and pre-0.13 code's ``models.resnet18(False)`` ----------
def _builder_warnings(tv, name, args, kwargs):
    """The model a legacy builder call gives (class, parameter count) or its error, and the warnings it issues."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            model = getattr(tv.models, name)(*args, **kwargs)
            out = (type(model).__name__, sum(p.numel() for p in model.parameters()))
        except TypeError as exc:
            out = ('TypeError',)
    return out, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize('name,args,kwargs', [
    ('alexnet', (), dict(pretrained=False)), ('squeezenet1_1', (), dict(pretrained=False, num_classes=7)),
    ('resnet18', (False,), {}), ('resnet18', (False, True), {}), ('resnet18', (False,), dict(num_classes=3)),
    ('resnet18', (), dict(weights=False)), ('resnet18', (), dict(weights=0, progress=False)),
    ('resnet18', (), dict(pretrained=False, weights=None)), ('vgg11', (None,), {}),
    ('detection.fasterrcnn_mobilenet_v3_large_fpn', (None, True, 5, None), {}),
    ('detection.fasterrcnn_mobilenet_v3_large_fpn', (), dict(pretrained=False, pretrained_backbone=False, num_classes=4)),
    ('segmentation.lraspp_mobilenet_v3_large', (None, True, 3), dict(weights_backbone=None))])
def test_legacy_builder_arguments_warn_as_torchvision(name, args, kwargs):
    """torchvision's handle_legacy_interface and kwonly_to_pos_or_kw: ``pretrained=False`` warns twice (ember warned
    once), a bool ``weights`` means pretrained (ember refused it: 'Invalid Weight class'), and positional arguments are
    named in order with a warning (ember: 'takes 0 positional arguments')."""
    from helpers import import_torchvision
    real = import_torchvision()
    ours = _aliased('torchvision')
    if '.' in name:
        package, name = name.split('.')
        real, ours = getattr(real.models, package), getattr(ours.models, package)
        real, ours = type('tv', (), {'models': real}), type('tv', (), {'models': ours})
    torch.manual_seed(0)
    assert _builder_warnings(ours, name, args, kwargs) == _builder_warnings(real, name, args, kwargs)


# -- pytorch/tutorials intermediate_source/named_tensor_tutorial.py: ``torch.zeros(2, 3, names=('N', 'C'))`` -----------
@pytest.mark.parametrize('op', ['zeros', 'ones', 'empty', 'rand', 'full'])
@pytest.mark.parametrize('names', [('N', 'C'), None])
def test_names_argument_is_refused_as_pytorch_refuses_it(op, names):
    """PyTorch 2.13 has no named tensors: its factories refuse ``names=`` with a TypeError (an unexpected keyword
    argument, or for rand an invalid combination); ember's zeros/ones/empty raised RuntimeError."""
    from helpers import run_both
    def run(L):
        args = ((2, 3), 1.0) if op == 'full' else (2, 3)
        return getattr(L, op)(*args, names=names)
    run_both(run)


# -- pytorch/tutorials intermediate_source/fx_conv_bn_fuser.py: print(fx.symbolic_trace(resnet18).graph) ---------------
def _traced_text(L, module):
    """``print(graph)`` and the generated code of a traced module, as the fuser tutorial prints them."""
    traced = L.fx.symbolic_trace(module)
    return str(traced.graph), traced.code


def _annotated_modules(L):
    from typing import List, Optional

    class A(L.nn.Module):
        def forward(self, x: L.Tensor, y: Optional[L.Tensor] = None, n: int = 2) -> L.Tensor:
            return x * n

    class B(L.nn.Module):
        def forward(self, x: L.Tensor, ys: List[L.Tensor], d: dict = None, t: tuple = ()):
            return x + ys[0]

    class C(L.nn.Module):
        def forward(self, x: L.Tensor | None, k: float = float('inf')) -> L.Tensor:
            return x + k
    return [A(), B(), C()]


@pytest.mark.parametrize('index', range(3))
def test_fx_placeholders_carry_the_forward_annotations(index):
    """Placeholders take the forward's parameter annotations (PyTorch's ``%x : torch.Tensor [num_users=1]`` and
    ``def forward(self, x : torch.Tensor, y : typing_Union[torch.Tensor,NoneType] = None``); ember left them untyped,
    printed the return type in the graph's header (PyTorch 2.13 prints ``graph():``) and named NoneType NoneType_1."""
    with aliasing.as_torch():
        T = importlib.import_module('torch')
        ours = _traced_text(T, _annotated_modules(T)[index])
    real = _traced_text(torch, _annotated_modules(torch)[index])
    assert ours == real


def test_fx_traced_resnet_input_is_a_tensor():
    """torchvision's ResNet.forward is annotated ``x: Tensor -> Tensor``, so the fuser tutorial's printed graph shows
    ``%x : torch.Tensor``; ember.vision's forward had no annotation."""
    from helpers import import_torchvision
    real = str(torch.fx.symbolic_trace(import_torchvision().models.resnet18()).graph).split('\n')[:2]
    ours = str(ember.fx.symbolic_trace(ember.vision.models.resnet18()).graph).split('\n')[:2]
    assert ours == real and 'torch.Tensor' in real[1]


# -- fx shape propagation (torch.fx.passes.shape_prop.ShapeProp), as fx tutorials and model-analysis scripts use it -----
def _shape_prop(L, tv):
    """Every node's recorded metadata after ShapeProp on resnet18 and on a module with a channels-last, a 1-d, a
    tuple-returning and a non-tensor node."""
    import importlib
    ShapeProp = importlib.import_module(L.__name__ + ('.fx.passes.shape_prop')).ShapeProp

    class M(L.nn.Module):
        def forward(self, x, n: int = 3):
            y = x.to(memory_format=L.channels_last) * 2
            a, b = y.flatten(1).chunk(2, dim=1)
            return y.sum(), (a, b.shape[1] + n), y.mean((0, 2, 3)).requires_grad_()
    out = []
    L.manual_seed(0)
    for module, x in ((tv.models.resnet18().eval(), L.randn(2, 3, 32, 32)), (M(), L.randn(2, 3, 4, 4))):
        gm = L.fx.symbolic_trace(module)
        result = ShapeProp(gm).propagate(x)
        for node in gm.graph.nodes:
            meta = node.meta.get('tensor_meta')
            flat = meta if isinstance(meta, (tuple, list)) and not hasattr(meta, 'shape') else [meta]
            out.append((node.name, node.meta['type'].__name__, str(meta.__class__.__name__),
                        [None if not hasattr(m, 'shape') else (tuple(m.shape), str(m.dtype), m.requires_grad, m.stride,
                                                               str(m.memory_format), m.is_quantized, m.qparams)
                         for m in (flat if isinstance(flat, list) else [flat])]))
        out.append(str(type(result)))
    return out


def test_fx_shape_prop_records_what_pytorch_records():
    """``from torch.fx.passes.shape_prop import ShapeProp`` failed under ember (no torch.fx.passes); its
    TensorMetadata per node (shape, dtype, requires_grad, strides, memory format) must be PyTorch's."""
    from helpers import import_torchvision
    real = _shape_prop(torch, import_torchvision())
    with aliasing.as_torch():
        T = importlib.import_module('torch')
        ours = _shape_prop(T, importlib.import_module('torchvision'))
    assert ours == real


def test_fx_shape_prop_refuses_a_fake_mode():
    """ember has no fake tensors: ShapeProp(fake_mode=...) is refused, naming the argument."""
    from ember.fx.passes.shape_prop import ShapeProp
    gm = ember.fx.symbolic_trace(ember.nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match='fake_mode'):
        ShapeProp(gm, fake_mode=object())


def test_fx_records_memory_format_and_layout_arguments():
    """``x.to(memory_format=torch.channels_last)`` and ``layout=torch.strided`` in a traced forward: PyTorch records
    them as constants (its base argument types); ember's tracer raised 'argument of type: memory_format'."""
    def text(L):
        class M(L.nn.Module):
            def forward(self, x):
                y = x.to(memory_format=L.channels_last).to(L.float64)
                z = L.zeros(2, layout=L.strided, dtype=L.float32)
                return y.contiguous(memory_format=L.contiguous_format), z, L.empty_like(x, memory_format=L.preserve_format)
        gm = L.fx.symbolic_trace(M())
        return str(gm.graph), gm.code, [o.stride() for o in gm(L.ones(1, 2, 3, 3))]
    with aliasing.as_torch():
        ours = text(importlib.import_module('torch'))
    assert ours == text(torch)


def test_fx_graph_drawer_imports_and_refuses_without_pydot():
    """``from torch.fx.passes.graph_drawer import FxGraphDrawer`` at a script's top: PyTorch imports it and refuses
    construction without pydot; ember's module was missing. With pydot installed ember refuses drawing clearly."""
    import importlib.util
    from helpers import run_both

    def run(L):
        module = importlib.import_module(L.__name__ + '.fx.passes.graph_drawer')
        return module.FxGraphDrawer(L.fx.symbolic_trace(L.nn.ReLU()), 'relu')
    if importlib.util.find_spec('pydot') is None:
        run_both(run, message=True)
    else:
        with pytest.raises(NotImplementedError, match='FxGraphDrawer is not supported by ember'):
            run(ember)
