"""How PyTorch spells ember's classes where Python prints a class's path: ``print(type(x))`` is
``<class 'torch.Tensor'>`` and a DataLoader's default repr ``<torch.utils.data.dataloader.DataLoader object at
...>``. The classes keep their real ``__module__`` (pickling, as DataLoader workers do, finds them by it); only
what is printed is spelled as PyTorch's. (While aliasing is on, Module, Optimizer and LRScheduler classes carry
their torch module: ember/aliasing.py.)"""

_SPECIAL = {'ember.tensor.Tensor': 'torch.Tensor', 'ember.tensor.Size': 'torch.Size', 'ember.tensor.device': 'torch.device',
            'ember._dtype.dtype': 'torch.dtype', 'ember.random.Generator': 'torch._C.Generator',
            'ember._typeinfo.finfo': 'torch.finfo', 'ember._typeinfo.iinfo': 'torch.iinfo',
            'ember.autograd._saved_hooks.SavedTensor': 'torch._C._autograd.SavedTensor',
            # sparse layouts are layouts of torch.Tensor in PyTorch (sentence-transformers prints type(embeddings))
            'ember._sparse.SparseTensor': 'torch.Tensor', 'ember._sparse_csr._Csr': 'torch.Tensor',
            'ember._sparse_csr._Csc': 'torch.Tensor', 'ember._quantized.QTensor': 'torch.Tensor',
            'ember._quantized.qscheme': 'torch.qscheme'}


def torch_path(cls):
    """``cls``'s module-qualified name as PyTorch prints it: ember's own classes under ``torch.`` (ember.vision
    under ``torchvision.``), any other class (a user's subclass) as Python names it."""
    module, name = cls.__module__, cls.__qualname__
    full = f'{module}.{name}'
    if full in _SPECIAL:
        return _SPECIAL[full]
    if module.startswith('ember.vision.') or module == 'ember.vision':
        return 'torchvision' + full[len('ember.vision'):]
    if module.startswith('ember.') or module == 'ember':
        return 'torch' + full[len('ember'):]
    return full


def object_repr(obj):
    """Python's default ``<path object at 0x...>`` repr, with PyTorch's path for ember's classes."""
    return f'<{torch_path(type(obj))} object at {hex(id(obj))}>'


class TorchNamedType(type):
    """Metaclass of ember's Tensor, Size, device and dtype: ``<class 'torch.Tensor'>`` (a subclass by its path,
    ember's own under ``torch.``). Not used for classes users subclass with other metaclasses (Module, Dataset:
    a metaclass there would conflict with ABCMeta), which PyTorch also builds on ``type``."""

    def __repr__(cls):
        return f"<class '{torch_path(cls)}'>"


class TensorMeta(TorchNamedType):
    """Metaclass of ember's Tensor and its subclasses (PyTorch's ``torch._C._TensorMeta``: Lightning's lazy
    checkpoint loader imports it), apart from the other classes PyTorch's spelling is given to."""

    def __new__(mcls, name, bases, namespace, **kwargs):
        """A subclass gets Tensor's ``__dict__`` property in its own namespace: a mixin base without slots (MONAI's
        MetaObj, of MetaTensor) would otherwise come first in the MRO with Python's plain ``__dict__``."""
        slots = namespace.get('__slots__', ())
        if '__dict__' not in namespace and '__dict__' not in ((slots,) if isinstance(slots, str) else slots):
            prop = next((c.__dict__['__dict__'] for b in bases for c in b.__mro__
                         if isinstance(c, TensorMeta) and isinstance(c.__dict__.get('__dict__'), property)), None)
            if prop is not None:
                namespace['__dict__'] = prop
        return super().__new__(mcls, name, bases, namespace, **kwargs)
