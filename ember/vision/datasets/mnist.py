"""MNIST, Fashion-MNIST, KMNIST, EMNIST and QMNIST read from the original IDX files under ``root/<Class>/raw`` (as torchvision)."""
import gzip
import math
import os
import shutil
import string
import warnings
import zlib

import numpy as np

from .._image import pil_module, wrap
from .utils import DownloadError, check_integrity, download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ['MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST', 'QMNIST', 'read_sn3_pascalvincent_array', 'read_image_file', 'read_label_file']

_IDX_TYPES = {8: np.uint8, 9: np.int8, 11: np.int16, 12: np.int32, 13: np.float32, 14: np.float64}


def _idx_path(path):
    """``path``, or ``path.gz`` when only the compressed file exists."""
    if os.path.isfile(path):
        return path
    if os.path.isfile(path + '.gz'):
        return path + '.gz'
    raise FileNotFoundError(path)


def _fix(path):
    return f'delete {path} and download it again (or use download=True)'


def _read_upto(f, nbytes):
    """At most ``nbytes`` from ``f``, grown as data arrives, so a lying header or a gzip bomb costs only
    the bytes that are really there (and never more than the header's declared size)."""
    buf = bytearray()
    while len(buf) < nbytes:
        chunk = f.read(min(nbytes - len(buf), 1 << 24))
        if not chunk:
            break
        buf += chunk
    return buf


def _parse_idx(f, path, strict):
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(f'{path}: truncated IDX header ({len(head)} bytes); {_fix(path)}')
    magic = int.from_bytes(head, 'big')
    nd, ty = magic % 256, magic // 256
    if not (1 <= nd <= 3 and ty in _IDX_TYPES):
        raise ValueError(f'{path} is not an IDX file (magic number {magic}); {_fix(path)}')
    dims = f.read(4 * nd)
    if len(dims) < 4 * nd:
        raise ValueError(f'{path}: truncated IDX header (it declares {nd} dimensions); {_fix(path)}')
    shape = [int.from_bytes(dims[4 * i:4 * i + 4], 'big') for i in range(nd)]
    dtype = np.dtype(_IDX_TYPES[ty]).newbyteorder('>')
    n = math.prod(shape)  # a Python int: (2^31, 2^31, 4) cannot wrap to a small size
    data = _read_upto(f, n * dtype.itemsize)
    if len(data) < n * dtype.itemsize:
        raise ValueError(f'{path}: its header declares shape {tuple(shape)} ({n} values) but it holds only '
                         f'{len(data) // dtype.itemsize}; {_fix(path)}')
    if strict and f.read(1):
        raise ValueError(f'{path}: it holds more data than its header declares ({n} values); {_fix(path)}')
    arr = np.frombuffer(data, dtype)
    return (arr if arr.dtype.isnative else arr.astype(dtype.newbyteorder('='))).reshape(shape)


def read_sn3_pascalvincent_array(path, strict=True):
    """Parse an IDX ("SN3 Pascal Vincent") file (or its ``.gz``) into a NumPy array of its stored type and
    shape, reading no more than the header declares and the file holds."""
    path = _idx_path(path)
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            return _parse_idx(f, path, strict)
    except (FileNotFoundError, PermissionError):
        raise
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f'{path}: cannot read it ({type(e).__name__}: {e}); {_fix(path)}') from None


def read_label_file(path):
    """Labels (int64 ember tensor) from an IDX1 uint8 file."""
    x = read_sn3_pascalvincent_array(path, strict=False)
    if x.dtype != np.uint8 or x.ndim != 1:
        raise ValueError(f'{path}: expected a 1-d uint8 IDX file, got {x.ndim}-d {x.dtype}')
    return wrap(x.astype(np.int64))


def read_image_file(path):
    """Images (uint8 ember tensor N x H x W) from an IDX3 uint8 file."""
    x = read_sn3_pascalvincent_array(path, strict=False)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise ValueError(f'{path}: expected a 3-d uint8 IDX file, got {x.ndim}-d {x.dtype}')
    return wrap(x)


class MNIST(VisionDataset):
    """The MNIST digits: 60,000 training and 10,000 test 28x28 grayscale images, as ``(PIL image, int)``."""

    mirrors = [
        'https://ossci-datasets.s3.amazonaws.com/mnist/',
        'http://yann.lecun.com/exdb/mnist/',
    ]
    resources = [
        ('train-images-idx3-ubyte.gz', 'f68b3c2dcbeaaa9fbdd348bbdeb94873'),
        ('train-labels-idx1-ubyte.gz', 'd53e105ee54ea40749a09fcbcd1e9432'),
        ('t10k-images-idx3-ubyte.gz', '9fb629c4189551a2d022fa330f9573f3'),
        ('t10k-labels-idx1-ubyte.gz', 'ec29112dd5afa0611ce80d1b7f02629c'),
    ]
    classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four',
               '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine']

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError('Dataset not found. You can use download=True to download it, or place '
                               f'{self._missing_help()}')
        self.data, self.targets = self._load_data()

    @property
    def train_labels(self):
        warnings.warn('train_labels has been renamed targets')
        return self.targets

    @property
    def test_labels(self):
        warnings.warn('test_labels has been renamed targets')
        return self.targets

    @property
    def train_data(self):
        warnings.warn('train_data has been renamed data')
        return self.data

    @property
    def test_data(self):
        warnings.warn('test_data has been renamed data')
        return self.data

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, 'raw')

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, 'processed')

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _raw_names(self):
        return [os.path.splitext(name)[0] for name, _ in self.resources]

    def _check_exists(self):
        """Every raw file is there, uncompressed or as ``.gz``."""
        return all(check_integrity(p) or check_integrity(p + '.gz')
                   for p in (os.path.join(self.raw_folder, n) for n in self._raw_names()))

    def _missing_help(self):
        names = ', '.join(self._raw_names())
        return f'the files {names} (or their .gz) in {self.raw_folder}'

    def _load_data(self):
        split = 'train' if self.train else 't10k'
        images = os.path.join(self.raw_folder, f'{split}-images-idx3-ubyte')
        labels = os.path.join(self.raw_folder, f'{split}-labels-idx1-ubyte')
        data, targets = read_image_file(images), read_label_file(labels)
        self._check_pairs(data, targets, images, labels, self.classes)
        return data, targets

    def _check_pairs(self, data, targets, images, labels, classes):
        """Raise when the image and label files disagree in count or a label is outside ``classes``."""
        fix = 'replace both with the original files (delete them and use download=True)'
        if len(data) != len(targets):
            raise RuntimeError(f'{self.__class__.__name__}: {images} holds {len(data)} images but {labels} holds '
                               f'{len(targets)} labels; {fix}')
        t = _array(targets)
        bad = t[(t < 0) | (t >= len(classes))]
        if bad.size:
            raise RuntimeError(f'{self.__class__.__name__}: {labels} holds label {int(bad[0])}, outside 0..'
                               f'{len(classes) - 1}; {fix}')

    def __getitem__(self, index):
        img = pil_module().fromarray(_array(self.data)[index])
        target = int(_array(self.targets)[index])
        return self._transformed(img, target)

    def __len__(self):
        return len(self.data)

    def download(self):
        """Fetch and unpack each resource from the first mirror that serves it with the right md5."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            self._download_one(filename, md5)

    def _download_one(self, filename, md5):
        errors = []
        for mirror in self.mirrors:
            url = f'{mirror}{filename}'
            try:
                download_and_extract_archive(url, self.raw_folder, filename=filename, md5=md5)
                return
            except DownloadError as e:    # silently, as torchvision 0.28
                errors.append(e.__cause__ or e)
        tried = ''.join(f'Tried {mirror}, got:\n{err}\n' for mirror, err in zip(self.mirrors, errors))
        raise RuntimeError(f'Error downloading {filename}:\n{tried}Without network access, place '
                           f'{self._missing_help()} and retry.')

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing."""

    mirrors = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/']
    resources = [
        ('train-images-idx3-ubyte.gz', '8d4fb7e6c68d591d4c3dfef9ec88bf0d'),
        ('train-labels-idx1-ubyte.gz', '25c81989df183df01b3e8a0aad5dffbe'),
        ('t10k-images-idx3-ubyte.gz', 'bef4ecab320f06d8554ea6380940ec79'),
        ('t10k-labels-idx1-ubyte.gz', 'bb300cfdad3c16e7a12a480ee83cd310'),
    ]
    classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
               'Ankle boot']



class KMNIST(MNIST):
    """Kuzushiji-MNIST: MNIST's format and sizes, ten cursive Japanese characters."""

    mirrors = ['http://codh.rois.ac.jp/kmnist/dataset/kmnist/']
    resources = [
        ('train-images-idx3-ubyte.gz', 'bdb82020997e1d708af4cf47b453dcf7'),
        ('train-labels-idx1-ubyte.gz', 'e144d726b3acfaa3e44228e80efcd344'),
        ('t10k-images-idx3-ubyte.gz', '5c965bf0a639b31b8f53240b1b52f4d7'),
        ('t10k-labels-idx1-ubyte.gz', '7320c461ea6c1c855c0b718fb2a4b134'),
    ]
    classes = ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo']


class EMNIST(MNIST):
    """Extended MNIST: handwritten digits and letters in six splits (byclass, bymerge, balanced, letters,
    digits, mnist), read from ``EMNIST/raw/emnist-<split>-<train|test>-{images-idx3,labels-idx1}-ubyte``."""

    url = 'https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip'
    md5 = '58c8d27c78d21e728a6bc7b3cc06412e'
    splits = ('byclass', 'bymerge', 'balanced', 'letters', 'digits', 'mnist')
    _merged_classes = {'c', 'i', 'j', 'k', 'l', 'm', 'o', 'p', 's', 'u', 'v', 'w', 'x', 'y', 'z'}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        'byclass': sorted(_all_classes),
        'bymerge': sorted(_all_classes - _merged_classes),
        'balanced': sorted(_all_classes - _merged_classes),
        'letters': ['N/A'] + list(string.ascii_lowercase),
        'digits': list(string.digits),
        'mnist': list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, 'split', self.splits)
        self.training_file = self._training_file(split)
        self.test_file = self._test_file(split)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @staticmethod
    def _training_file(split):
        return f'training_{split}.pt'

    @staticmethod
    def _test_file(split):
        return f'test_{split}.pt'

    @property
    def _file_prefix(self):
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self):
        return os.path.join(self.raw_folder, f'{self._file_prefix}-images-idx3-ubyte')

    @property
    def labels_file(self):
        return os.path.join(self.raw_folder, f'{self._file_prefix}-labels-idx1-ubyte')

    def _load_data(self):
        data, targets = read_image_file(self.images_file), read_label_file(self.labels_file)
        self._check_pairs(data, targets, self.images_file, self.labels_file, self.classes_split_dict[self.split])
        return data, targets

    def _check_exists(self):
        return all(check_integrity(f) for f in (self.images_file, self.labels_file))

    def _missing_help(self):
        return f'the files {self.images_file} and {self.labels_file}'

    def download(self):
        """Fetch NIST's zip of gzipped IDX files and unpack every split into the raw folder."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        gzip_folder = os.path.join(self.raw_folder, 'gzip')
        for name in os.listdir(gzip_folder):
            if name.endswith('.gz'):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        shutil.rmtree(gzip_folder)



_QMNIST_URL = 'https://raw.githubusercontent.com/facebookresearch/qmnist/master/'


class QMNIST(MNIST):
    """QMNIST: MNIST's digits reconstructed from NIST, with 8 label columns per image (class, writer, ...);
    ``what`` picks train, test (or its first 10k / last 50k) or nist; ``compat`` gives the class as an int."""

    subsets = {'train': 'train', 'test': 'test', 'test10k': 'test', 'test50k': 'test', 'nist': 'nist'}
    resources = {
        'train': [(_QMNIST_URL + 'qmnist-train-images-idx3-ubyte.gz', 'ed72d4157d28c017586c42bc6afe6370'),
                  (_QMNIST_URL + 'qmnist-train-labels-idx2-int.gz', '0058f8dd561b90ffdd0f734c6a30e5e4')],
        'test': [(_QMNIST_URL + 'qmnist-test-images-idx3-ubyte.gz', '1394631089c404de565df7b7aeaf9412'),
                 (_QMNIST_URL + 'qmnist-test-labels-idx2-int.gz', '5b5b05890a5e13444e108efe57b788aa')],
        'nist': [(_QMNIST_URL + 'xnist-images-idx3-ubyte.xz', '7f124b3b8ab81486c9d8c2749c17f834'),
                 (_QMNIST_URL + 'xnist-labels-idx2-int.xz', '5ed0e788978e45d4a8bd4b7caec3d79d')],
    }

    def __init__(self, root, what=None, compat=True, train=True, **kwargs):
        if what is None:
            what = 'train' if train else 'test'
        self.what = verify_str_arg(what, 'what', tuple(self.subsets))
        self.compat = compat
        self.data_file = what + '.pt'
        self.training_file = self.data_file
        self.test_file = self.data_file
        super().__init__(root, train, **kwargs)

    def _raw_file(self, i):
        url = self.resources[self.subsets[self.what]][i][0]
        return os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0])

    @property
    def images_file(self):
        return self._raw_file(0)

    @property
    def labels_file(self):
        return self._raw_file(1)

    def _check_exists(self):
        return all(check_integrity(f) for f in (self.images_file, self.labels_file))

    def _missing_help(self):
        return f'the files {self.images_file} and {self.labels_file}'

    def _load_data(self):
        data = read_sn3_pascalvincent_array(self.images_file)
        if data.dtype != np.uint8:
            raise TypeError(f'data should be of dtype torch.uint8 instead of {wrap(data[:0]).dtype}')
        if data.ndim != 3:
            raise ValueError(f'data should have 3 dimensions instead of {data.ndim}')
        targets = read_sn3_pascalvincent_array(self.labels_file).astype(np.int64)
        if targets.ndim != 2:
            raise ValueError(f'targets should have 2 dimensions instead of {targets.ndim}')
        if self.what == 'test10k':
            data, targets = data[:10000].copy(), targets[:10000].copy()
        elif self.what == 'test50k':
            data, targets = data[10000:].copy(), targets[10000:].copy()
        return wrap(data), wrap(targets)

    def download(self):
        """Fetch the images and labels of this subset (gzip, or xz for nist)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for url, md5 in self.resources[self.subsets[self.what]]:
            download_and_extract_archive(url, self.raw_folder, md5=md5)

    def __getitem__(self, index):
        img = pil_module().fromarray(_array(self.data)[index])
        target = self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.compat:
            target = int(target[0])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self):
        return f'Split: {self.what}'


def _array(x):
    """The NumPy array behind a tensor (or the array itself)."""
    return x._data if hasattr(x, '_data') else np.asarray(x)
