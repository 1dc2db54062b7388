"""Figure 6: DataLoader throughput on the CIFAR-10 pipeline (PIL image, ToTensor, Normalize) over a
fake in-memory dataset of random 32x32x3 uint8 images, batch 4, 0 and 2 workers, in images/second."""
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import _harness

try:
    import torchvision.transforms as transforms
except (ImportError, RuntimeError):   # torchvision 0.28's C extension fails to load beside a CPU-only torch
    transforms = None

IMAGES = 400 if _harness.QUICK else 2000


class _ToTensor:
    """torchvision's ToTensor for 8-bit RGB PIL images, in torch ops."""

    def __call__(self, pic):
        img = torch.from_numpy(np.array(pic, np.uint8, copy=True))
        img = img.view(pic.size[1], pic.size[0], len(pic.getbands())).permute((2, 0, 1)).contiguous()
        return img.to(dtype=torch.get_default_dtype()).div(255)


class _Normalize:
    """torchvision's Normalize (not in place), in torch ops."""

    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, tensor):
        tensor = tensor.clone()
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = torch.as_tensor(self.std, dtype=tensor.dtype, device=tensor.device)
        if (std == 0).any():
            raise ValueError("std evaluated to zero, leading to division by zero.")
        return tensor.sub_(mean.view(-1, 1, 1)).div_(std.view(-1, 1, 1))


class _Compose:
    """torchvision's Compose."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, x):
        for step in self.steps:
            x = step(x)
        return x


def cifar_transform():
    """The seed's ToTensor + Normalize((0.5,)*3, (0.5,)*3), from torchvision when importable."""
    mean_std = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    if transforms is not None:
        return transforms.Compose([transforms.ToTensor(), transforms.Normalize(*mean_std)])
    return _Compose([_ToTensor(), _Normalize(*mean_std)])


class FakeCIFAR(Dataset):
    """CIFAR-10's layout in memory: uint8 HWC images and int labels, turned into PIL images per item."""

    def __init__(self, count, transform):
        rng = np.random.default_rng(0)
        self.data = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        self.targets = rng.integers(0, 10, count).tolist()
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self.transform(Image.fromarray(self.data[index])), self.targets[index]


def measure(dataset, workers):
    """Report images/second of a shuffled batch-4 DataLoader epoch with ``workers`` workers."""
    loader = DataLoader(dataset, batch_size=4, shuffle=True, num_workers=workers)

    def epoch():
        for _ in loader:
            pass

    seconds = _harness.seconds_per_call(epoch)
    _harness.report(f"DataLoader {workers} workers", len(dataset) / seconds, "images/s")


if __name__ == "__main__":
    _harness.start(torch)
    data = FakeCIFAR(IMAGES, cifar_transform())
    measure(data, 0)
    measure(data, 2)
