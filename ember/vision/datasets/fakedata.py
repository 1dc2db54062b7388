"""``FakeData``: random images and labels, each determined by its index, as torchvision makes them (for
trying a pipeline without a dataset, e.g. pytorch/examples' imagenet ``--dummy``)."""
import ember
from ..transforms import functional as F
from .vision import VisionDataset

__all__ = ['FakeData']


class FakeData(VisionDataset):
    """Image ``index`` is ``randn(*image_size)`` and its label ``randint(0, num_classes)`` under the seed
    ``index + random_offset``; the global random state is left as it was. Images come as PIL images."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f'{self.__class__.__name__} index out of range')
        state = ember.get_rng_state()
        ember.manual_seed(index + self.random_offset)
        img = ember.randn(*self.image_size)
        target = ember.randint(0, self.num_classes, size=(1,), dtype=ember.long)[0]
        ember.set_rng_state(state)
        img = F.to_pil_image(img)
        img, target = self._transformed(img, target)
        return img, target.item()

    def __len__(self):
        return self.size
