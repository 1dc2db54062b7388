"""The UCI handwritten digits (1,797 8x8 grayscale images) that ship inside ember, so a first model can
train with no download. Data: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0."""
import gzip
import importlib.resources
import os

import numpy as np

from .._image import pil_module, wrap
from .vision import VisionDataset

__all__ = ['Digits']

FILENAME = 'digits.csv.gz'
NUM_TEST = 360
SPLIT_SEED = 0


def packaged_path():
    """Where ember's own copy of ``digits.csv.gz`` lies."""
    return str(importlib.resources.files('ember') / 'data' / FILENAME)


def load_csv(path):
    """``(pixels, labels)``: uint8 arrays (N, 8, 8) with values 0..16 and (N,) from the gzipped CSV rows
    of 64 pixels and a label."""
    with gzip.open(path, 'rt') as f:
        rows = np.loadtxt(f, delimiter=',', dtype=np.int64, ndmin=2)
    return rows[:, :64].reshape(-1, 8, 8).astype(np.uint8), rows[:, 64]


def split_indices(n, num_test=NUM_TEST):
    """Deterministic ``(train, test)`` index arrays: a fixed permutation (NumPy's legacy RandomState,
    whose stream never changes) puts ``num_test`` samples aside."""
    perm = np.random.RandomState(SPLIT_SEED).permutation(n)
    return np.sort(perm[num_test:]), np.sort(perm[:num_test])


class Digits(VisionDataset):
    """UCI handwritten digits as ``(PIL image, int)``: 1,437 training and 360 test 8x8 images whose
    0..16 pixel counts are scaled to 0..255. ``root`` may name a folder holding ``digits.csv.gz``."""

    classes = [str(i) for i in range(10)]
    url = 'https://archive.ics.uci.edu/dataset/80'

    def __init__(self, root=None, train=True, transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        pixels, labels = load_csv(self._path())
        idx = split_indices(len(labels))[0 if train else 1]
        scaled = (pixels[idx].astype(np.uint16) * 255 + 8) // 16
        self.data = wrap(scaled.astype(np.uint8))
        self.targets = wrap(labels[idx])

    def _path(self):
        return packaged_path() if self.root is None else os.path.join(self.root, FILENAME)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        img = pil_module().fromarray(self.data._data[index])
        target = int(self.targets._data[index])
        return self._transformed(img, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"
