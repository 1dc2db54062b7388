"""``torchvision.tv_tensors``: tensor subclasses that tell the v2 transforms what a tensor holds (``Image``,
``Video``, ``Mask``, ``BoundingBoxes`` with their format and canvas size). As in torchvision, their
``__torch_function__`` returns plain tensors from most operations (in-place ones too); ``clone``, ``to``,
``detach`` and ``requires_grad_`` keep the subclass and its metadata, and :func:`wrap` puts a plain result back
into the type of another."""
from enum import Enum

import ember
from ember.tensor import Tensor
from ember._torch_function import DisableTorchFunctionSubclass

__all__ = ['TVTensor', 'Image', 'Video', 'Mask', 'BoundingBoxes', 'BoundingBoxFormat', 'is_rotated_bounding_format',
           'wrap']


# the methods whose results keep the tv_tensor type of their first argument (torchvision's)
_FORCE_TORCHFUNCTION_SUBCLASS = {Tensor.clone, Tensor.to, Tensor.detach, Tensor.requires_grad_, Tensor.pin_memory}


def _to_tensor(data, dtype=None, requires_grad=None):
    if requires_grad is None:
        requires_grad = data.requires_grad if isinstance(data, Tensor) else False
    return ember.as_tensor(data, dtype=dtype).requires_grad_(requires_grad)


def _from_pil(data):
    from ember.vision import _image
    if _image.is_pil(data):
        from ember.vision.transforms import functional as F
        return F.pil_to_tensor(data)
    return data


class TVTensor(Tensor):
    """Base class of the tv_tensors."""

    def __init__(self, *args, **kwargs):
        """Construction happens in ``__new__``."""

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        """``output``'s tensors (in tuples and lists too) as ``cls``."""
        if isinstance(output, Tensor) and not isinstance(output, cls):
            output = output.as_subclass(cls)
        if isinstance(output, (tuple, list)):
            output = type(output)(cls._wrap_output(part, args, kwargs) for part in output)
        return output

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        return tensor.as_subclass(cls)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """As torchvision's: run ``func`` on plain tensors; its result keeps the type only for the
        ``_FORCE_TORCHFUNCTION_SUBCLASS`` methods called on one of ``cls``, else it is a plain tensor (an in-place
        op's result too)."""
        if not all(issubclass(cls, t) for t in types):
            return NotImplemented
        with DisableTorchFunctionSubclass():
            output = func(*args, **kwargs or dict())
            if func in _FORCE_TORCHFUNCTION_SUBCLASS and isinstance(args[0], cls):
                return cls._wrap_output(output, args, kwargs)
            if isinstance(output, cls):
                return output.as_subclass(Tensor)
        return output

    @property
    def shape(self):
        return Tensor.shape.__get__(self)

    @property
    def ndim(self):
        return Tensor.ndim.__get__(self)

    @property
    def device(self):
        return Tensor.device.__get__(self)

    @property
    def dtype(self):
        return Tensor.dtype.__get__(self)

    def _make_repr(self, **kwargs):
        extra = ', '.join(f'{key}={value}' for key, value in kwargs.items())
        return f'{Tensor.__repr__(self)[:-1]}, {extra})'

    def __deepcopy__(self, memo):
        return self.detach().clone().requires_grad_(self.requires_grad)

    def __reduce_ex__(self, protocol):
        return _rebuild, (type(self), self.detach().numpy().copy(), self._meta())

    def _meta(self):
        return {}


def _rebuild(cls, array, meta):
    return cls(ember.tensor(array), **meta)


class Image(TVTensor):
    """An image or batch of images ``[..., C, H, W]`` (a 2-D tensor gets a channel dimension)."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = _to_tensor(_from_pil(data), dtype, requires_grad)
        if tensor.ndim < 2:
            raise ValueError(f'Tensor must be 2D or higher, got {tensor.ndim}D tensor.')
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return tensor.as_subclass(cls)

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr()


class Video(TVTensor):
    """A video or batch of videos ``[..., T, C, H, W]``."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = _to_tensor(data, dtype, requires_grad)
        if tensor.ndim < 4:
            raise ValueError(f'Video must have at least 4 dimensions, got {tensor.ndim}.')
        return tensor.as_subclass(cls)

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr()


class Mask(TVTensor):
    """Segmentation or detection masks ``[..., H, W]``."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        return _to_tensor(_from_pil(data), dtype, requires_grad).as_subclass(cls)


class BoundingBoxFormat(Enum):
    """The layouts of a box's coordinates."""
    XYXY = 'XYXY'
    XYWH = 'XYWH'
    CXCYWH = 'CXCYWH'
    XYWHR = 'XYWHR'
    CXCYWHR = 'CXCYWHR'
    XYXYXYXY = 'XYXYXYXY'


def is_rotated_bounding_format(format):
    """Whether ``format`` (a BoundingBoxFormat or its name) describes rotated boxes."""
    if isinstance(format, BoundingBoxFormat):
        return format in (BoundingBoxFormat.XYWHR, BoundingBoxFormat.CXCYWHR, BoundingBoxFormat.XYXYXYXY)
    if isinstance(format, str):
        return format in ('XYWHR', 'CXCYWHR', 'XYXYXYXY')
    raise ValueError(f'format should be str or BoundingBoxFormat, got {type(format)}')


class BoundingBoxes(TVTensor):
    """Boxes ``[N, K]`` of one image, with their ``format``, the ``canvas_size`` (height, width) they live on and
    the ``clamping_mode`` the transforms use ('soft', 'hard' or None)."""

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode='soft', check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.ndim != 2:
                raise ValueError(f'Expected a 1D or 2D tensor, got {tensor.ndim}D')
        if clamping_mode is not None and clamping_mode not in ('hard', 'soft'):
            raise ValueError(f'clamping_mode must be None, hard or soft, got {clamping_mode}.')
        if isinstance(format, str):
            format = BoundingBoxFormat[format.upper()]
        boxes = tensor.as_subclass(cls)
        boxes.format, boxes.canvas_size, boxes.clamping_mode = format, canvas_size, clamping_mode
        return boxes

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        return cls._wrap(tensor, format=kwargs.get('format', like.format),
                         canvas_size=kwargs.get('canvas_size', like.canvas_size),
                         clamping_mode=kwargs.get('clamping_mode', like.clamping_mode))

    def __new__(cls, data, *, format, canvas_size, clamping_mode='soft', dtype=None, device=None,
                requires_grad=None):
        tensor = _to_tensor(data, dtype, requires_grad)
        if not tensor.is_floating_point() and is_rotated_bounding_format(format):
            raise ValueError(f'Rotated bounding boxes should be floating point tensors, got {tensor.dtype}.')
        return cls._wrap(tensor, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode)

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        """``output``'s tensors as BoundingBoxes with the metadata of the first BoundingBoxes argument."""
        like = next(a for a in (*args, *(kwargs or {}).values()) if isinstance(a, BoundingBoxes))
        meta = dict(format=like.format, canvas_size=like.canvas_size, clamping_mode=like.clamping_mode,
                    check_dims=False)
        if isinstance(output, Tensor) and not isinstance(output, BoundingBoxes):
            output = BoundingBoxes._wrap(output, **meta)
        elif isinstance(output, (tuple, list)):
            output = type(output)(BoundingBoxes._wrap(part, **meta) for part in output)
        return output

    def _meta(self):
        return {'format': self.format, 'canvas_size': self.canvas_size, 'clamping_mode': self.clamping_mode}

    def __repr__(self, *, tensor_contents=None):
        return self._make_repr(format=self.format, canvas_size=self.canvas_size, clamping_mode=self.clamping_mode)


def wrap(wrappee, *, like, **kwargs):
    """``wrappee`` as the tv_tensor type of ``like``, with its metadata unless ``kwargs`` override it."""
    wrap_method = getattr(type(like), 'wrap', None)
    if wrap_method is not None:
        return wrap_method(wrappee, like, **kwargs)
    return wrappee.as_subclass(type(like))
