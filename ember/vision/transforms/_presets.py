"""The evaluation preprocessing pretrained classifiers, detection and segmentation models expect
(``Weights.transforms()``)."""
import ember
from ember import nn

from . import functional as F
from .functional import InterpolationMode

__all__ = ['ObjectDetection', 'ImageClassification', 'SemanticSegmentation', 'VideoClassification']


def _to_float_image(img):
    """A uint8 image tensor scaled to float32 in [0, 1]; a float one unchanged (``convert_image_dtype``)."""
    if img.dtype.is_floating_point:
        return img
    if img.dtype != ember.uint8:
        raise TypeError(f'ImageClassification expects a uint8 or float image, got {img.dtype}')
    return img.to(ember.float32) / 255


class ImageClassification(nn.Module):
    """Resize the shorter edge to ``resize_size``, crop the centre ``crop_size``, scale to [0, 1] and
    normalize with ImageNet's mean and std; accepts PIL images and (..., C, H, W) tensors."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = F.pil_to_tensor(img)
        return F.normalize(_to_float_image(img), mean=self.mean, std=self.std)

    def __repr__(self):
        fields = (f'crop_size={self.crop_size}', f'resize_size={self.resize_size}', f'mean={self.mean}',
                  f'std={self.std}', f'interpolation={self.interpolation}')
        return self.__class__.__name__ + '(' + ''.join('\n    ' + f for f in fields) + '\n)'

    def describe(self):
        return ('Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` '
                f'objects. The images are resized to ``resize_size={self.resize_size}`` using '
                f'``interpolation={self.interpolation}``, followed by a central crop of '
                f'``crop_size={self.crop_size}``. Finally the values are first rescaled to ``[0.0, 1.0]`` and '
                f'then normalized using ``mean={self.mean}`` and ``std={self.std}``.')


class ObjectDetection(nn.Module):
    """Scale an image to float in [0, 1] (detection models normalize and resize inside); accepts PIL images and
    (..., C, H, W) tensors."""

    def forward(self, img):
        if not isinstance(img, ember.Tensor):
            img = F.pil_to_tensor(img)
        return F.convert_image_dtype(img, ember.float)

    def __repr__(self):
        return self.__class__.__name__ + '()'

    def describe(self):
        return ('Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` '
                'objects. The images are rescaled to ``[0.0, 1.0]``.')


class SemanticSegmentation(nn.Module):
    """Resize the shorter edge to ``resize_size`` (unless None), scale to [0, 1] and normalize with ImageNet's
    mean and std; accepts PIL images and (..., C, H, W) tensors."""

    def __init__(self, *, resize_size, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.resize_size = [resize_size] if resize_size is not None else None
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        if isinstance(self.resize_size, list):
            img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        if not isinstance(img, ember.Tensor):
            img = F.pil_to_tensor(img)
        return F.normalize(F.convert_image_dtype(img, ember.float), mean=self.mean, std=self.std)

    def __repr__(self):
        fields = (f'resize_size={self.resize_size}', f'mean={self.mean}', f'std={self.std}',
                  f'interpolation={self.interpolation}')
        return self.__class__.__name__ + '(' + ''.join('\n    ' + f for f in fields) + '\n)'

    def describe(self):
        return ('Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` '
                f'objects. The images are resized to ``resize_size={self.resize_size}`` using '
                f'``interpolation={self.interpolation}``. Finally the values are first rescaled to ``[0.0, 1.0]`` '
                f'and then normalized using ``mean={self.mean}`` and ``std={self.std}``.')


class VideoClassification(nn.Module):
    """Resize each frame of (..., T, C, H, W) uint8 or float clips to ``resize_size`` (without antialiasing,
    as the video weights were trained), crop the centre ``crop_size``, scale to [0, 1], normalize with
    Kinetics' mean and std and return (..., C, T, H, W)."""

    def __init__(self, *, crop_size, resize_size, mean=(0.43216, 0.394666, 0.37645), std=(0.22803, 0.22145, 0.216989),
                 interpolation=InterpolationMode.BILINEAR):
        super().__init__()
        self.crop_size = list(crop_size)
        self.resize_size = list(resize_size)
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation

    def forward(self, vid):
        single = vid.ndim < 5
        if single:
            vid = vid.unsqueeze(dim=0)
        n, t, c, h, w = vid.shape
        vid = F.resize(vid.view(-1, c, h, w), self.resize_size, interpolation=self.interpolation, antialias=False)
        vid = F.convert_image_dtype(F.center_crop(vid, self.crop_size), ember.float)
        vid = F.normalize(vid, mean=self.mean, std=self.std).view(n, t, c, *self.crop_size).permute(0, 2, 1, 3, 4)
        return vid.squeeze(dim=0) if single else vid

    def __repr__(self):
        fields = (f'crop_size={self.crop_size}', f'resize_size={self.resize_size}', f'mean={self.mean}',
                  f'std={self.std}', f'interpolation={self.interpolation}')
        return self.__class__.__name__ + '(' + ''.join('\n    ' + f for f in fields) + '\n)'

    def describe(self):
        return ('Accepts batched ``(B, T, C, H, W)`` and single ``(T, C, H, W)`` video frame ``torch.Tensor`` '
                f'objects. The frames are resized to ``resize_size={self.resize_size}`` using '
                f'``interpolation={self.interpolation}``, followed by a central crop of '
                f'``crop_size={self.crop_size}``. Finally the values are first rescaled to ``[0.0, 1.0]`` and '
                f'then normalized using ``mean={self.mean}`` and ``std={self.std}``. Finally the output '
                'dimensions are permuted to ``(..., C, T, H, W)`` tensors.')
