"""CIFAR-10 and CIFAR-100 read from the original python pickles (``cifar-10-batches-py`` etc.)."""
import os

import numpy as np

from .._image import pil_module
from .utils import DownloadError, check_integrity, download_and_extract_archive, restricted_load
from .vision import VisionDataset

__all__ = ['CIFAR10', 'CIFAR100']


def _text(x):
    return x.decode('latin1') if isinstance(x, bytes) else x


def _load_pickle(path):
    """A CIFAR pickle as a dict with ``str`` keys, whether it was written by Python 2 or 3."""
    with open(path, 'rb') as f:
        entry = restricted_load(f, encoding='latin1')
    if not isinstance(entry, dict):
        raise RuntimeError(f'{path} is not a CIFAR batch: it holds a {type(entry).__name__}, not a dict')
    return {_text(k): v for k, v in entry.items()}


def _field(entry, keys, path):
    for key in keys:
        if key in entry:
            return entry[key]
    raise RuntimeError(f'{path} is not a CIFAR batch: it has no {" or ".join(map(repr, keys))} entry (it has '
                       f'{sorted(map(str, entry))}); {_FIX}')


_FIX = 'delete the folder and extract the original archive again (or use download=True)'


def _batch(path, n_classes):
    """(uint8 rows of 3072 pixels, int labels) of one batch, checked for shape, range and count."""
    entry = _load_pickle(path)
    data, labels = _field(entry, ('data',), path), _field(entry, ('labels', 'fine_labels'), path)
    if not (isinstance(data, np.ndarray) and data.dtype.kind in 'iu' and data.ndim == 2 and data.shape[1] == 3072):
        what = f'{data.dtype} array of shape {data.shape}' if isinstance(data, np.ndarray) else type(data).__name__
        raise RuntimeError(f'{path}: its data is a {what}, not rows of 3072 integer pixels; {_FIX}')
    if data.size and (data.min() < 0 or data.max() > 255):
        raise RuntimeError(f'{path}: its pixel values reach {int(data.min())}..{int(data.max())}, outside 0..255; '
                           f'{_FIX}')
    if not (isinstance(labels, list) and all(type(t) is int or isinstance(t, np.integer) for t in labels)):
        raise RuntimeError(f'{path}: its labels are not a list of integers; {_FIX}')
    if len(labels) != len(data):
        raise RuntimeError(f'{path} holds {len(data)} images but {len(labels)} labels; {_FIX}')
    bad = [t for t in labels if not 0 <= t < n_classes]
    if bad:
        raise RuntimeError(f'{path} holds label {int(bad[0])}, outside 0..{n_classes - 1}; {_FIX}')
    return data.astype(np.uint8, copy=False), [int(t) for t in labels]


class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in ten classes."""

    base_folder = 'cifar-10-batches-py'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
    filename = 'cifar-10-python.tar.gz'
    tgz_md5 = 'c58f30108f718f92721af3b95e74349a'
    train_list = [
        ['data_batch_1', 'c99cafc152244af753f735de768cd75f'],
        ['data_batch_2', 'd4bba439e000b95fd0a9bffe97cbabec'],
        ['data_batch_3', '54ebc095f3ab1f0389bbae665268c751'],
        ['data_batch_4', '634d18415352ddfa80567beed471001a'],
        ['data_batch_5', '482c414d41f54cd18b22e5b47cb7c3cb'],
    ]
    test_list = [['test_batch', '40351d587109b95175f43aff81a1287e']]
    meta = {'filename': 'batches.meta', 'key': 'label_names', 'md5': '5ff9c542aee3614f3951f8cda6e48888'}
    _n_classes = 10

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError('Dataset not found or corrupted. You can use download=True to download it, '
                               f'or {self._placement_help()}')
        self.data, self.targets = self._load_batches(self.train_list if self.train else self.test_list)
        self._load_meta()

    def _folder(self):
        return os.path.join(self.root, self.base_folder)

    def _load_batches(self, files):
        data, targets = [], []
        for name, _ in files:
            rows, labels = _batch(os.path.join(self._folder(), name), self._n_classes)
            data.append(rows)
            targets.extend(labels)
        data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        return np.ascontiguousarray(data), targets

    def _load_meta(self):
        path = os.path.join(self._folder(), self.meta['filename'])
        if not check_integrity(path, self.meta['md5']):
            raise RuntimeError('Dataset metadata file not found or corrupted. You can use download=True to '
                               'download it')
        names = _field(_load_pickle(path), (self.meta['key'],), path)
        if not (isinstance(names, list) and all(isinstance(c, (str, bytes)) for c in names)):
            raise RuntimeError(f'{path}: its {self.meta["key"]!r} entry is not a list of names; {_FIX}')
        self.classes = [_text(c) for c in names]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        return self._transformed(pil_module().fromarray(self.data[index]), self.targets[index])

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return all(check_integrity(os.path.join(self._folder(), name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def _placement_help(self):
        names = ', '.join(n for n, _ in self.train_list + self.test_list) + ', ' + self.meta['filename']
        return (f'without network access extract {self.filename} (from {self.url}) into {self.root} so that '
                f'{self._folder()} holds {names}, or put {self.filename} itself in {self.root} and use '
                'download=True')

    def download(self):
        """Fetch and extract the archive unless every batch is already present with the right md5 (silently, as
        torchvision 0.28)."""
        if self._check_integrity():
            return
        try:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)
        except DownloadError as e:
            raise RuntimeError(f'{e}. To use {self.__class__.__name__}, {self._placement_help()}') from e

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 fine classes (``targets`` are the fine labels)."""

    base_folder = 'cifar-100-python'
    url = 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'
    filename = 'cifar-100-python.tar.gz'
    tgz_md5 = 'eb9058c3a382ffc7106e4002c42a8d85'
    train_list = [['train', '16019d7e3df5f24257cddd939b257f8d']]
    test_list = [['test', 'f0ef6b0ae62326f3e7ffdfab6717acfc']]
    meta = {'filename': 'meta', 'key': 'fine_label_names', 'md5': '7973b15100ade9c7d40fb424638fde48'}
    _n_classes = 100
