"""Image datasets read from their original files, as ``torchvision.datasets`` lays them out."""
from .cifar import CIFAR10, CIFAR100
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ['MNIST', 'FashionMNIST', 'CIFAR10', 'CIFAR100', 'VisionDataset', 'StandardTransform']
