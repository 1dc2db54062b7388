"""Image datasets read from their original files, as ``torchvision.datasets`` lays them out."""
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .food101 import Food101
from .lsun import LSUN, LSUNClass
from .mnist import EMNIST, KMNIST, MNIST, QMNIST, FashionMNIST
from ._refused import *  # noqa: F401,F403 (named so libraries import; constructing one raises)
from .svhn import SVHN
from .vision import VisionDataset

__all__ = ['MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST', 'QMNIST', 'CIFAR10', 'CIFAR100', 'Digits', 'FakeData', 'DatasetFolder', 'ImageFolder',
           'Food101', 'SVHN', 'LSUN', 'LSUNClass', 'VisionDataset']
