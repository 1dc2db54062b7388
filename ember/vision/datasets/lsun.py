"""LSUN scene categories read from their LMDB databases (``<category>_<split>_lmdb`` folders under root);
reading needs the ``lmdb`` package."""
import io
import os
from collections.abc import Iterable

from .._image import pil_module
from .utils import iterable_to_str, verify_str_arg
from .vision import VisionDataset

__all__ = ['LSUN', 'LSUNClass']

_CATEGORIES = ['bedroom', 'bridge', 'church_outdoor', 'classroom', 'conference_room', 'dining_room', 'kitchen',
               'living_room', 'restaurant', 'tower']
_SPLITS = ['train', 'val', 'test']


def _lmdb():
    try:
        import lmdb
    except ImportError as e:
        raise ModuleNotFoundError('LSUN reads LMDB databases with the lmdb package: pip install lmdb',
                                  name='lmdb') from e
    return lmdb


class LSUNClass(VisionDataset):
    """One LSUN database: its images (RGB PIL) in key order, with target None."""

    def __init__(self, root, transform=None, target_transform=None):
        lmdb = _lmdb()
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.env = lmdb.open(root, max_readers=1, readonly=True, lock=False, readahead=False, meminit=False)
        with self.env.begin(write=False) as txn:
            self.length = txn.stat()['entries']
            self.keys = list(txn.cursor().iternext(keys=True, values=False))

    def __getitem__(self, index):
        with self.env.begin(write=False) as txn:
            buf = txn.get(self.keys[index])
        img = pil_module().open(io.BytesIO(buf)).convert('RGB')
        target = None
        return self._transformed(img, target)

    def __len__(self):
        return self.length


class LSUN(VisionDataset):
    """LSUN ``classes``: a split name (``'train'``, ``'val'``: all ten categories; ``'test'``) or a list like
    ``['bedroom_train', 'church_outdoor_train']``; the target is the index in that list."""

    def __init__(self, root, classes='train', transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes = self._verify_classes(classes)
        self.dbs = [LSUNClass(root=os.path.join(root, f'{c}_lmdb'), transform=transform) for c in self.classes]
        self.indices, count = [], 0
        for db in self.dbs:
            count += len(db)
            self.indices.append(count)
        self.length = count

    def _verify_classes(self, classes):
        """The database names ``classes`` stands for. As in torchvision, a string that is not a split name is
        then checked as a list of names (so ``'dev'`` is reported as its characters' empty category)."""
        try:
            verify_str_arg(classes, 'classes', _SPLITS)
            return [classes] if classes == 'test' else [f'{c}_{classes}' for c in _CATEGORIES]
        except ValueError:
            if not isinstance(classes, Iterable):
                raise ValueError('Expected type str or Iterable for argument classes, but got type '
                                 f'{type(classes)}.') from None
        classes = list(classes)
        for c in classes:
            verify_str_arg(c)
            *parts, split = c.split('_')
            category = '_'.join(parts)
            verify_str_arg(category, valid_values=_CATEGORIES, custom_msg=f"Unknown value '{category}' for LSUN "
                           f'class. Valid values are {{{iterable_to_str(_CATEGORIES)}}}.')
            verify_str_arg(split, valid_values=_SPLITS, custom_msg=f"Unknown value '{split}' for postfix. Valid "
                           f'values are {{{iterable_to_str(_SPLITS)}}}.')
        return classes

    def __getitem__(self, index):
        target, sub = 0, 0
        for ind in self.indices:
            if index < ind:
                break
            target += 1
            sub = ind
        if self.target_transform is not None:
            target = self.target_transform(target)
        img, _ = self.dbs[target][index - sub]
        return img, target

    def __len__(self):
        return self.length

    def extra_repr(self):
        return f'Classes: {self.classes}'
