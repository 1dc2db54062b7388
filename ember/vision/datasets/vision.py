"""``VisionDataset``: the base of the image datasets, with torchvision's ``repr`` and transform handling."""
import os

from ...utils.data import Dataset

__all__ = ['VisionDataset', 'StandardTransform']


def _indent_repr(transform, head):
    """``repr(transform)`` with ``head`` before its first line and later lines aligned under it."""
    lines = repr(transform).splitlines()
    return [head + lines[0]] + [' ' * len(head) + line for line in lines[1:]]


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self):
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += _indent_repr(self.transform, 'Transform: ')
        if self.target_transform is not None:
            body += _indent_repr(self.target_transform, 'Target transform: ')
        return '\n'.join(body)


class VisionDataset(Dataset):
    """Base class of the datasets: keeps ``root`` and the transforms, prints like torchvision."""
    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_separate = transform is not None or target_transform is not None
        if transforms is not None and has_separate:
            raise ValueError('Only transforms or transform/target_transform can be passed as argument')
        self.transform = transform
        self.target_transform = target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index):
        raise NotImplementedError

    def _transformed(self, img, target):
        """(img, target) through ``transform`` and ``target_transform``, as every dataset returns them."""
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        raise NotImplementedError

    def __repr__(self):
        body = [f'Number of datapoints: {self.__len__()}']
        if self.root is not None:
            body.append(f'Root location: {self.root}')
        body += self.extra_repr().splitlines()
        if getattr(self, 'transforms', None) is not None:
            body += [repr(self.transforms)]
        lines = ['Dataset ' + self.__class__.__name__] + [' ' * self._repr_indent + line for line in body]
        return '\n'.join(lines)

    def extra_repr(self):
        return ''
