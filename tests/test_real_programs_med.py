"""MONAI 1.5 under ``ember.aliasing.as_torch()`` (session 37): the names and values its networks, losses, metrics,
transforms, datasets and training loops reach, each reduced to the lines that found the defect and checked against
PyTorch. MONAI is not needed here."""
import pytest
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


# -- monai/data/meta_obj.py: MetaObj.copy_meta_from copies one tensor's ``__dict__`` into another ---------------
class _Meta:
    """A mixin without slots before Tensor in the MRO, as MONAI's MetaObj in ``MetaTensor(MetaObj, torch.Tensor)``."""


def _meta_class(T):
    class Meta(_Meta, T.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            ret = super().__torch_function__(func, types, args, kwargs or {})
            src = args[0][0] if args and isinstance(args[0], (list, tuple)) and args[0] else args[0] if args else None
            if isinstance(ret, Meta) and isinstance(src, Meta):
                ret.__dict__.update({k: v for k, v in src.__dict__.items()})   # MetaObj.copy_meta_from
            return ret
    return Meta


def test_dict_holds_only_a_programs_attributes():
    """``t.__dict__`` of views, leaves that required grad and retained non-leaves is empty, as in PyTorch (ember
    keeps its autograd state apart): MetaTensor copies it from an op's input into its result, so the views and
    leaves of RandCropByPosNegLabeld's crops broke (``'list' object has no attribute 'limit'``)."""
    def attrs(T):
        x = T.arange(6.).reshape(2, 3)
        v = x[1:]
        w = T.ones(3, requires_grad=True)
        y = w * 2
        y.retain_grad()
        (y.sum() + v.sum()).backward()
        w.note = 'kept'
        out = [dict(x.__dict__), dict(v.__dict__), dict(y.__dict__), dict(w.__dict__), sorted(vars(w))]
        w.__dict__ = {'other': 1}
        out += [dict(w.__dict__), w.is_leaf, w.grad]
        w.__dict__.update(more=2)
        return out + [w.more, hasattr(w, 'note')]
    run_both(attrs)


def test_meta_subclass_views_and_grads():
    """MONAI's pattern: every op's result gets its first input's ``__dict__`` (meta, applied_operations); views of
    views, in-place writes through them and gradients to a leaf stay PyTorch's."""
    def crops(T):
        Meta = _meta_class(T)
        x = T.arange(24.).reshape(2, 3, 4).as_subclass(Meta)
        x.meta = {'affine': 'eye'}
        a = x[1:]
        b = a[:, 1:]
        c = b[[slice(None), slice(0, 2)]]
        c.mul_(10)
        w = T.ones(2, 3, 4, requires_grad=True)
        m = (w * 1).as_subclass(Meta)
        m.meta = {'k': 1}
        s = m[0][1:] * x[1]
        s.sum().backward()
        return [type(c).__name__, c.meta, x, x._version, b._is_view(), w.grad, s.meta]
    run_both(crops)


# -- monai/data/dataset.py: CacheDataset deep-copies its cached MetaTensors before the random transforms ----------
def test_deepcopy_copies_attributes_deeply():
    """PyTorch's ``Tensor.__deepcopy__`` deep-copies the tensor's ``__dict__`` (and a subclass's slots): the copy's
    ``applied_operations`` list is its own, so the random transforms of one epoch do not pile up on the cache."""
    import copy

    def copies(T):
        class Slotted(T.Tensor):
            __slots__ = ('extra',)

            def new_empty(self, size, **kwargs):     # as MetaTensor's: deepcopy makes the copy with it
                return T.Tensor.new_empty(self, size, **kwargs).as_subclass(type(self))
        t = T.ones(2)
        t.ops = [1]
        s = T.zeros(2).as_subclass(Slotted)
        s.extra, s.meta = [2], {'k': [3]}
        c, d = copy.deepcopy(t), copy.deepcopy(s)
        c.ops.append(9)
        d.extra.append(9)
        d.meta['k'].append(9)
        return [t.ops, c.ops, s.extra, d.extra, s.meta, d.meta, type(d).__name__]
    run_both(copies)


# -- monai/data/utils.py: collate_meta_tensor_fn stacks MetaTensors with default collate's collate_tensor_fn ------
def test_collate_keeps_a_tensor_subclass():
    """``collate_tensor_fn`` of subclass instances is ``torch.stack`` through their ``__torch_function__``, so a
    batch of MetaTensors is a MetaTensor (ember's NumPy fast path gave a plain Tensor)."""
    def batch(T):
        import importlib
        collate = importlib.import_module(T.__name__ + '.utils.data._utils.collate')
        Meta = _meta_class(T)
        items = [T.full((2,), float(i)).as_subclass(Meta) for i in range(3)]
        for i, t in enumerate(items):
            t.meta = {'i': i}
        out = collate.collate_tensor_fn(items)
        dl = T.utils.data.DataLoader(items, batch_size=2)
        return [type(out).__name__, out, out.meta, [type(b).__name__ for b in dl]]
    run_both(batch)


# -- monai/networks/nets/unet.py: a UNet's Conv3d/ConvTranspose3d/Linear on MetaTensor inputs --------------------
def test_conv_and_linear_modules_dispatch():
    """``nn.Conv*d``, ``nn.ConvTranspose*d`` and ``nn.Linear`` reach ``F.conv*``/``F.linear``, which a Tensor
    subclass's ``__torch_function__`` handles: MONAI's networks return MetaTensors (ember's modules called their
    kernels directly and returned plain tensors)."""
    def layers(T):
        T.manual_seed(0)
        Meta = _meta_class(T)
        x = T.randn(1, 2, 4, 4, 4).as_subclass(Meta)
        x.meta = {'k': 1}
        mods = [T.nn.Conv3d(2, 3, 3, padding=1), T.nn.ConvTranspose3d(2, 1, 2, stride=2), T.nn.Linear(4, 2),
                T.nn.Conv2d(2, 2, 1)]
        outs = [mods[0](x), mods[1](x), mods[2](x), mods[3](x[:, :, 0])]
        return [(type(o).__name__, o.meta, o) for o in outs]
    run_both(layers, tol=1e-5)


# -- monai/inferers/utils.py: sliding_window_inference's ``inputs[win_slice]`` with a list of slices --------------
def test_list_of_slices_indexes_as_a_tuple():
    """A list index holding a slice, tensor, sequence, ``...`` or None is read as a tuple (PyTorch warns it is
    deprecated); a list of ints stays an integer-array index. Both for reading and writing."""
    def index(T):
        x = T.arange(24.).reshape(2, 3, 4)
        idx = [[slice(None), slice(0, 2)], [0, slice(1, 3)], [0, 1], [[0, 1], [1, 2]], [None, 0], [Ellipsis, 1],
               [0, [0, 1]], [T.tensor(0), slice(None)], [True, False]]
        y = T.zeros(2, 3, 4)
        y[[slice(None), slice(0, 2)]] += 1
        y[[0, 1]] += 1
        return [x[i] for i in idx] + [y]
    run_both(index)
    with pytest.warns(UserWarning, match='non-tuple sequence for multidimensional indexing'):
        ember.arange(4.)[[slice(0, 2)]]


# -- monai/data/dataset.py: PersistentDataset torch.saves MetaTensors and torch.loads them (weights_only=False) ---
class _TorchSaved(torch.Tensor):
    """A program's Tensor subclass, pickled by reference (module-level, as MetaTensor)."""


class _EmberSaved(ember.Tensor):
    """ember's twin of ``_TorchSaved``."""


def test_save_keeps_a_tensor_subclass(tmp_path):
    """``torch.save`` pickles a Tensor subclass instance with its class and ``__dict__`` (PyTorch's
    ``_rebuild_from_type_v2``); ``weights_only=False`` loads it back (ember saved it as a plain tensor, so the
    cached MetaTensors lost their affine); the default ``weights_only=True`` refuses the class."""
    def roundtrip(T):
        cls = _TorchSaved if T is torch else _EmberSaved
        t = T.arange(4.).as_subclass(cls)
        t.meta = {'affine': [1, 2]}
        f = tmp_path / f'{T.__name__}.pt'
        T.save({'x': t, 'y': [t[1:]], 'z': T.ones(2)}, f)
        back = T.load(f, weights_only=False)
        x, y = back['x'], back['y'][0]
        return [type(x) is cls, x, x.meta, type(y) is cls, y, getattr(y, 'meta', None), type(back['z']).__name__]
    run_both(roundtrip)

    def refused(T):
        cls = _TorchSaved if T is torch else _EmberSaved
        f = tmp_path / f'{T.__name__}_w.pt'
        T.save(T.ones(2).as_subclass(cls), f)
        return T.load(f)
    run_both(refused)
