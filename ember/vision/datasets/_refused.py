"""torchvision datasets that ember names but does not read yet: they import (avalanche subclasses them at import
time) and constructing one raises NotImplementedError naming it, as a missing reader should, never a wrong dataset."""
from ...aliasing import unsupported
from .vision import VisionDataset

# each name with what its reader would need beyond ember
_REFUSED = {
    'Omniglot': 'ember has no reader for its background/evaluation archives',
    'CocoCaptions': 'it needs pycocotools and ember has no reader for it',
    'CocoDetection': 'it needs pycocotools and ember has no reader for it',
    'STL10': 'ember has no reader for its binary files',
    'PhotoTour': 'ember has no reader for its patch images',
    'SBU': 'ember has no reader for its photo list',
    'Flickr8k': 'ember has no reader for its annotation files',
    'Flickr30k': 'ember has no reader for its annotation files',
    'VOCDetection': 'ember has no reader for the VOC archives',
    'VOCSegmentation': 'ember has no reader for the VOC archives',
    'Cityscapes': 'ember has no reader for its folders',
    'SBDataset': 'ember has no reader for its .mat files',
    'USPS': 'ember has no reader for its bz2 files',
    'HMDB51': 'ember has no video decoding (torchvision.io.read_video)',
    'UCF101': 'ember has no video decoding (torchvision.io.read_video)',
    'CelebA': 'ember has no reader for its attribute files',
}


def _refused_dataset(name, detail):
    """A VisionDataset subclass named as torchvision's ``name`` whose constructor raises NotImplementedError."""
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(unsupported(f'torchvision.datasets.{name}', detail))
    doc = f"torchvision's {name}; ember refuses making one ({detail})."
    cls = type(name, (VisionDataset,), {'__init__': __init__, '__doc__': doc, '__module__': __name__})
    cls.__ember_unsupported__ = True   # tools/supported.py and ``ember run --check`` leave it out
    return cls


globals().update({name: _refused_dataset(name, detail) for name, detail in _REFUSED.items()})
__all__ = list(_REFUSED)
