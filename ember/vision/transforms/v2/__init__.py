"""``torchvision.transforms.v2``: transforms that take any structure of inputs (``(image, label)``, dicts with
``tv_tensors.BoundingBoxes`` and ``Mask``...), transform its images (and boxes and masks where they move), pass
the rest through, plus MixUp/CutMix on batches and the box transforms. A sample's first plain tensor is its image
when it holds no PIL image or ``tv_tensors.Image``, as torchvision treats plain tensors."""
from . import functional
from ..autoaugment import AutoAugmentPolicy
from ..functional import InterpolationMode
from ._auto_augment import AutoAugment, RandAugment, TrivialAugmentWide
from ._boxes import ClampBoundingBoxes, ConvertBoundingBoxFormat, SanitizeBoundingBoxes
from ._transform import Compose, RandomApply, RandomChoice, RandomOrder, Transform
from ._transforms import (CenterCrop, ColorJitter, ConvertImageDtype, CutMix, FiveCrop, GaussianBlur, GaussianNoise,
                          Grayscale, Identity, Lambda, MixUp, Normalize, Pad, PILToTensor, RandomAdjustSharpness,
                          RandomAffine, RandomAutocontrast, RandomChannelPermutation, RandomCrop, RandomEqualize,
                          RandomErasing, RandomGrayscale, RandomHorizontalFlip, RandomInvert, RandomPerspective,
                          RandomPosterize, RandomResizedCrop, RandomRotation, RandomSolarize, RandomVerticalFlip,
                          Resize, RGB, TenCrop, ToDtype, ToImage, ToPILImage, ToPureTensor, ToTensor, query_chw,
                          query_size)

__all__ = ['functional', 'InterpolationMode', 'AutoAugmentPolicy', 'AutoAugment', 'RandAugment', 'TrivialAugmentWide', 'Transform', 'Compose', 'RandomApply',
           'RandomChoice', 'RandomOrder', 'CenterCrop', 'ColorJitter', 'ConvertImageDtype', 'CutMix', 'FiveCrop',
           'GaussianBlur', 'GaussianNoise', 'Grayscale', 'Identity', 'Lambda', 'MixUp', 'Normalize', 'Pad',
           'PILToTensor', 'RandomAdjustSharpness', 'RandomAffine', 'RandomAutocontrast', 'RandomChannelPermutation',
           'RandomCrop', 'RandomEqualize', 'RandomErasing', 'RandomGrayscale', 'RandomHorizontalFlip', 'RandomInvert',
           'RandomPerspective', 'RandomPosterize', 'RandomResizedCrop', 'RandomRotation', 'RandomSolarize',
           'RandomVerticalFlip', 'Resize', 'RGB', 'TenCrop', 'ToDtype', 'ToImage', 'ToPILImage', 'ToPureTensor',
           'ToTensor', 'query_chw', 'query_size', 'ClampBoundingBoxes', 'ConvertBoundingBoxFormat',
           'SanitizeBoundingBoxes']
