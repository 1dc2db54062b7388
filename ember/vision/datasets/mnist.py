"""MNIST and Fashion-MNIST read from the original IDX files under ``root/<Class>/raw`` (as torchvision)."""
import gzip
import math
import os
import warnings
import zlib

import numpy as np

from .._image import pil_module, wrap
from .utils import DownloadError, check_integrity, download_and_extract_archive
from .vision import VisionDataset

__all__ = ['MNIST', 'FashionMNIST', 'read_sn3_pascalvincent_array', 'read_image_file', 'read_label_file']

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
        fix = 'replace both with the original files (delete them and use download=True)'
        if len(data) != len(targets):
            raise RuntimeError(f'{self.__class__.__name__}: {images} holds {len(data)} images but {labels} holds '
                               f'{len(targets)} labels; {fix}')
        bad = _array(targets)[(_array(targets) < 0) | (_array(targets) >= len(self.classes))]
        if bad.size:
            raise RuntimeError(f'{self.__class__.__name__}: {labels} holds label {int(bad[0])}, outside 0..'
                               f'{len(self.classes) - 1}; {fix}')
        return data, targets

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
            except DownloadError as e:
                print(f'Failed to download (trying next):\n{e}')
                errors.append(str(e))
        raise RuntimeError(f'Error downloading {filename}: ' + '; '.join(errors) + '. Without network '
                           f'access, place {self._missing_help()} and retry.')

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


def _array(x):
    """The NumPy array behind a tensor (or the array itself)."""
    return x._data if hasattr(x, '_data') else np.asarray(x)
