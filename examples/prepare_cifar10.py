"""An offline stand-in for CIFAR-10: real Fashion-MNIST images in CIFAR-10's batch layout, honestly named.

The machines ember is tested on have no network, so the seed notebook's
``CIFAR10(root='./data', download=True)`` cannot fetch the real archive. This script writes files in
the layout CIFAR-10 ships (``data_batch_1..5``, ``test_batch``, ``batches.meta``: Python pickles
holding uint8 ``data`` rows of 3x32x32 pixels, ``labels``, ``filenames``) from the real Fashion-MNIST
photographs (Debian's ``dataset-fashion-mnist``), padded to 32x32 and repeated over three channels,
into ``data/fashion-mnist-as-cifar-10``. They are not CIFAR-10 and do not pass ``CIFAR10``'s
integrity check; the ``FashionMNISTAsCIFAR10`` dataset class defined here reads them, and ``run``
runs a script or notebook under ``ember run`` with that class standing in for ``CIFAR10`` (it says
so when the script asks for the data). With network access, plain ``ember run`` fetches the real
CIFAR-10.

    python examples/prepare_cifar10.py --out data [--train 10000 --test 2000]
    python examples/prepare_cifar10.py run [--figures DIR] examples/seeds/seed002_autodiff_deep_learning.ipynb
"""
import argparse
import gzip
import os
import pickle
import sys

import numpy as np

FASHION = '/usr/share/datasets/fashion-mnist'
FOLDER = 'fashion-mnist-as-cifar-10'
CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot']


def read_idx(path):
    """The array stored in an IDX file (gzipped or not)."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(source, stem):
    for name in (stem, stem + '.gz'):
        path = os.path.join(source, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f'{stem}[.gz] not found in {source}: install Debian\'s dataset-fashion-mnist '
                            '(apt-get install dataset-fashion-mnist) or pass --source DIR')


def to_cifar_rows(images):
    """28x28 grey images -> CIFAR rows: 3x32x32 uint8 (channel-major), zero-padded by 2 pixels."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(padded[:, None], 3, axis=1).reshape(len(images), 3 * 32 * 32)


def write_batch(path, label, rows, labels, prefix):
    entry = {'batch_label': label, 'labels': [int(x) for x in labels], 'data': rows,
             'filenames': [f'{prefix}_{i:05d}.png' for i in range(len(labels))]}
    with open(path, 'wb') as f:
        pickle.dump(entry, f, protocol=2)


def prepare(out='data', source=FASHION, n_train=10000, n_test=2000, seed=0):
    """Write the seven CIFAR-10-layout files under ``out/fashion-mnist-as-cifar-10`` and return that folder."""
    rng = np.random.default_rng(seed)
    xtr = read_idx(find(source, 'train-images-idx3-ubyte'))
    ytr = read_idx(find(source, 'train-labels-idx1-ubyte'))
    xte = read_idx(find(source, 't10k-images-idx3-ubyte'))
    yte = read_idx(find(source, 't10k-labels-idx1-ubyte'))
    tr = rng.permutation(len(xtr))[:n_train]
    te = rng.permutation(len(xte))[:n_test]
    folder = os.path.join(out, FOLDER)
    os.makedirs(folder, exist_ok=True)
    rows, labels = to_cifar_rows(xtr[tr]), ytr[tr]
    for k, idx in enumerate(np.array_split(np.arange(len(tr)), 5), 1):
        write_batch(os.path.join(folder, f'data_batch_{k}'), f'training batch {k} of 5', rows[idx], labels[idx],
                    f'train{k}')
    write_batch(os.path.join(folder, 'test_batch'), 'testing batch 1 of 1', to_cifar_rows(xte[te]), yte[te], 'test')
    with open(os.path.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': CLASSES, 'num_cases_per_batch': len(tr) // 5, 'num_vis': 3072}, f, protocol=2)
    return folder


def stand_in_class():
    """``FashionMNISTAsCIFAR10``: ember's ``CIFAR10`` reading the prepared folder, which it checks for
    presence only (these files have no published checksums) and announces for what it is."""
    from ember.vision.datasets import CIFAR10

    class FashionMNISTAsCIFAR10(CIFAR10):
        base_folder = FOLDER
        train_list = [[f'data_batch_{k}', None] for k in range(1, 6)]
        test_list = [['test_batch', None]]
        meta = {'filename': 'batches.meta', 'key': 'label_names', 'md5': None}

        def download(self):
            if not self._check_integrity():
                raise RuntimeError(f'{self._folder()} not found: run python examples/prepare_cifar10.py '
                                   f'--out {self.root} first')
            print(f'Using {self._folder()}: Fashion-MNIST images in CIFAR-10 layout, standing in for CIFAR-10')

    return FashionMNISTAsCIFAR10


def run(argv):
    """``ember run ARGV`` with ``torchvision.datasets.CIFAR10`` replaced by the stand-in class."""
    from ember import cli
    from ember.vision import datasets
    datasets.CIFAR10 = stand_in_class()
    return cli.main(['run', *argv])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['run']:
        return run(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='data', help='the root passed to CIFAR10(root=...)')
    p.add_argument('--source', default=FASHION, help='folder with the Fashion-MNIST IDX files')
    p.add_argument('--train', type=int, default=10000, help='training images (at most 60000)')
    p.add_argument('--test', type=int, default=2000, help='test images (at most 10000)')
    args = p.parse_args(argv)
    folder = prepare(args.out, args.source, args.train, args.test)
    print(f'wrote Fashion-MNIST images in CIFAR-10 layout to {folder} ({args.train} train / {args.test} test)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
