"""MONAI 1.5 under ``ember.aliasing.as_torch()`` (session 37): the names and values its networks, losses, metrics,
transforms, datasets and training loops reach, each reduced to the lines that found the defect and checked against
PyTorch. MONAI is not needed here."""
import torch

import ember
from helpers import run_both


# -- monai/networks/nets/swin_unetr.py: WindowAttention reads ``torch.meshgrid.__kwdefaults__`` -------------------
def test_meshgrid_kwdefaults_survive_dispatch():
    """SwinUNETR's WindowAttention passes ``indexing="ij"`` only when ``torch.meshgrid.__kwdefaults__`` is not None;
    once a Tensor subclass with ``__torch_function__`` exists (MONAI's MetaTensor), ember's dispatching stand-in of
    meshgrid must keep the function's keyword defaults, or the old call warns where PyTorch does not."""
    class Sub(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})
    def grid(T, cls):
        a = T.arange(3.) if cls is None else T.arange(3.).as_subclass(cls)
        return [T.meshgrid.__kwdefaults__, T.meshgrid(a, a[:2], indexing='ij')]
    assert grid(ember, Sub)[0] == {'indexing': None}
    run_both(lambda T: grid(T, None))


# -- monai/networks/blocks/dynunet_block.py: instance norm of a 1x1x1 bottleneck in training ---------------------
def test_instance_norm_one_spatial_element():
    """UNETR/SwinUNETR on too small a volume reach InstanceNorm on (N, C, 1, 1, 1): PyTorch refuses with its own
    message (about spatial elements, naming the input's size), not batch norm's about values per channel."""
    x = [[[[[0.5]]], [[[1.5]]]]]
    run_both(lambda T: T.nn.InstanceNorm3d(2)(T.tensor(x)), message=True)
    run_both(lambda T: T.nn.functional.instance_norm(T.tensor(x)[0]), message=True)
    run_both(lambda T: T.nn.functional.instance_norm(T.tensor(x), use_input_stats=False,
                                                     running_mean=T.zeros(2), running_var=T.ones(2)))
    run_both(lambda T: T.nn.InstanceNorm2d(2)(T.tensor([[[[0.5, 1.0]], [[2.0, 3.0]]]])))


# -- monai/utils/misc.py: set_determinism sets cudnn flags under ``torch.backends.__allow_nonbracketed_mutation`` --
def _flags(T):
    """Backend flags set inside ``__allow_nonbracketed_mutation`` and ``flags()``, then refused by plain assignment
    once ``disable_global_flags`` froze them (the frozen state is undone after, as it is process-wide)."""
    out = [T.backends.flags_frozen()]
    try:
        with T.backends.__allow_nonbracketed_mutation():
            T.backends.cudnn.deterministic = True
            T.backends.cudnn.benchmark = False
        out.append((T.backends.cudnn.deterministic, T.backends.cudnn.benchmark))
        T.backends.disable_global_flags()
        out.append(T.backends.flags_frozen())
        for mod, name in (('cudnn', 'deterministic'), ('mkldnn', 'enabled')):
            try:
                setattr(getattr(T.backends, mod), name, False)
                out.append('set')
            except RuntimeError as e:
                out.append(str(e))
        with T.backends.cudnn.flags(enabled=False, deterministic=False):
            out.append((T.backends.cudnn.enabled, T.backends.cudnn.deterministic))
        out.append((T.backends.cudnn.enabled, T.backends.cudnn.deterministic))
        with T.backends.__allow_nonbracketed_mutation():
            T.backends.cudnn.deterministic = False
        out.append(T.backends.flags_frozen())
    finally:
        if T is torch:
            T.backends.flags_frozen.__globals__['__allow_nonbracketed_mutation_flag'] = True
        else:
            T.backends._flags._STATE['frozen'] = False
        T.backends.cudnn.deterministic = False
    out.append(T.backends.flags_frozen())
    return out


def test_backend_flags_freeze_and_bracketed_mutation():
    """MONAI's ``set_determinism`` (imported by every tutorial) sets cuDNN's flags inside
    ``torch.backends.__allow_nonbracketed_mutation()``; PyTorch's ``disable_global_flags`` freezes them."""
    run_both(_flags)
