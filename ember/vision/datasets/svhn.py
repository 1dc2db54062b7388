"""SVHN: 32x32 house-number digits read from the original MATLAB files (``train_32x32.mat`` ...); label 10
(the digit 0) becomes 0, as torchvision maps it. Reading .mat files needs SciPy."""
import os

import numpy as np

from .._image import pil_module
from .utils import DownloadError, check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ['SVHN']


def _loadmat(path):
    try:
        import scipy.io
    except ImportError as e:
        raise ImportError('SVHN reads MATLAB .mat files with SciPy: pip install scipy') from e
    return scipy.io.loadmat(path)


class SVHN(VisionDataset):
    """The SVHN split ``'train'``, ``'test'`` or ``'extra'``; ``data`` is N x 3 x 32 x 32 uint8."""

    split_list = {
        'train': ['http://ufldl.stanford.edu/housenumbers/train_32x32.mat', 'train_32x32.mat',
                  'e26dedcc434d2e4c54c9b2d4a06d8373'],
        'test': ['http://ufldl.stanford.edu/housenumbers/test_32x32.mat', 'test_32x32.mat',
                 'eb5a983be6a315427106f1b164d9cef3'],
        'extra': ['http://ufldl.stanford.edu/housenumbers/extra_32x32.mat', 'extra_32x32.mat',
                  'a93ce644f1a588dc4d68dda5feec44a7'],
    }

    def __init__(self, root, split='train', transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, 'split', tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError('Dataset not found or corrupted. You can use download=True to download it')
        loaded = _loadmat(os.path.join(self.root, self.filename))
        self.labels = loaded['y'].astype(np.int64).squeeze()
        np.place(self.labels, self.labels == 10, 0)
        self.data = np.transpose(loaded['X'], (3, 2, 0, 1))

    def __getitem__(self, index):
        img, target = self.data[index], int(self.labels[index])
        img = pil_module().fromarray(np.transpose(img, (1, 2, 0)))
        return self._transformed(img, target)

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.split_list[self.split][2])

    def download(self):
        try:
            download_url(self.url, self.root, self.filename, self.split_list[self.split][2])
        except DownloadError as e:
            raise RuntimeError(f'{e}. To use SVHN offline, put {self.filename} from {self.url} in '
                               f'{self.root}') from e

    def extra_repr(self):
        return f'Split: {self.split}'
