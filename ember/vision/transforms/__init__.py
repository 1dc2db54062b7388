"""Image transforms (``torchvision.transforms``) for PIL images and ember tensor images."""
from . import functional
from .functional import InterpolationMode
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .transforms import (CenterCrop, ColorJitter, Compose, Grayscale, Lambda, Normalize, Pad, PILToTensor,
                         RandomAffine, RandomApply, RandomCrop, RandomGrayscale, RandomHorizontalFlip,
                         RandomResizedCrop, RandomRotation, RandomVerticalFlip, Resize, ToPILImage, ToTensor,
                         ConvertImageDtype, RandomErasing, GaussianBlur, RandomInvert, RandomPosterize,
                         RandomSolarize, RandomAdjustSharpness, RandomAutocontrast, RandomEqualize, FiveCrop, TenCrop,
                         RandomPerspective, RandomOrder, RandomChoice, LinearTransformation, ElasticTransform)

__all__ = ['functional', 'InterpolationMode', 'Compose', 'ToTensor', 'PILToTensor', 'ToPILImage', 'Normalize',
           'Resize', 'CenterCrop', 'Pad', 'Lambda', 'RandomApply', 'RandomCrop', 'RandomHorizontalFlip',
           'RandomVerticalFlip', 'RandomResizedCrop', 'Grayscale', 'RandomGrayscale', 'RandomRotation',
           'RandomAffine', 'TrivialAugmentWide', 'RandAugment', 'ColorJitter', 'ConvertImageDtype', 'RandomErasing',
           'GaussianBlur', 'RandomInvert', 'RandomPosterize', 'RandomSolarize', 'RandomAdjustSharpness',
           'RandomAutocontrast', 'RandomEqualize', 'FiveCrop', 'TenCrop', 'RandomPerspective', 'AutoAugment',
           'AutoAugmentPolicy', 'AugMix', 'RandomOrder', 'RandomChoice', 'LinearTransformation', 'ElasticTransform']
