"""Food-101: 101 food categories, 750 training and 250 test images each, in the original archive's layout
(``food-101/images/<class>/<id>.jpg`` and ``food-101/meta/{train,test}.json``)."""
import json
from pathlib import Path

from .folder import default_loader
from .utils import DownloadError, download_and_extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ['Food101']


class Food101(VisionDataset):
    """The Food-101 split ``'train'`` or ``'test'``; targets index ``classes`` (sorted names)."""

    _URL = 'http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz'
    _MD5 = '85eeb15f3717b99a5da872d97d918f87'

    def __init__(self, root, split='train', transform=None, target_transform=None, download=False,
                 loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, 'split', ('train', 'test'))
        self._base_folder = Path(self.root) / 'food-101'
        self._meta_folder = self._base_folder / 'meta'
        self._images_folder = self._base_folder / 'images'
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError('Dataset not found. You can use download=True to download it')
        with open(self._meta_folder / f'{split}.json') as f:
            metadata = json.load(f)
        self.classes = sorted(metadata.keys())
        self.class_to_idx = dict(zip(self.classes, range(len(self.classes))))
        self._labels, self._image_files = [], []
        for label, rel_paths in metadata.items():
            self._labels += [self.class_to_idx[label]] * len(rel_paths)
            self._image_files += [self._images_folder.joinpath(*f'{p}.jpg'.split('/')) for p in rel_paths]
        self.loader = loader

    def __len__(self):
        return len(self._image_files)

    def __getitem__(self, idx):
        image, label = self.loader(self._image_files[idx]), self._labels[idx]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label

    def extra_repr(self):
        return f'split={self._split}'

    def _check_exists(self):
        return all(folder.is_dir() for folder in (self._meta_folder, self._images_folder))

    def _download(self):
        if self._check_exists():
            return
        try:
            download_and_extract_archive(self._URL, download_root=self.root, md5=self._MD5)
        except DownloadError as e:
            raise RuntimeError(f'{e}. To use Food101 offline, extract food-101.tar.gz (5 GB) from {self._URL} '
                               f'into {self.root} so that {self._meta_folder} exists') from e
