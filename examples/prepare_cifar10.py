"""Build ``data/cifar-10-batches-py`` offline, in CIFAR-10's original layout, from real images.

The machines ember is tested on have no network, so the seed notebook's
``CIFAR10(root='./data', download=True)`` cannot fetch the real archive. This script writes the
exact files CIFAR-10 ships (``data_batch_1..5``, ``test_batch``, ``batches.meta``: Python pickles
holding uint8 ``data`` rows of 3x32x32 pixels, ``labels``, ``filenames``) from the real Fashion-MNIST
photographs (Debian's ``dataset-fashion-mnist``), padded to 32x32 and repeated over three channels,
and records their checksums in ``ember_prepared.json`` so ember's integrity check accepts them.
With network access, delete the folder and let ``download=True`` fetch the real CIFAR-10.

    python examples/prepare_cifar10.py --out data [--train 10000 --test 2000]
"""
import argparse
import gzip
import hashlib
import json
import os
import pickle

import numpy as np

FASHION = '/usr/share/datasets/fashion-mnist'
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


def md5(path):
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def prepare(out='data', source=FASHION, n_train=10000, n_test=2000, seed=0):
    """Write the seven CIFAR-10 files under ``out/cifar-10-batches-py`` and return that folder."""
    rng = np.random.default_rng(seed)
    xtr = read_idx(find(source, 'train-images-idx3-ubyte'))
    ytr = read_idx(find(source, 'train-labels-idx1-ubyte'))
    xte = read_idx(find(source, 't10k-images-idx3-ubyte'))
    yte = read_idx(find(source, 't10k-labels-idx1-ubyte'))
    tr = rng.permutation(len(xtr))[:n_train]
    te = rng.permutation(len(xte))[:n_test]
    folder = os.path.join(out, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)
    rows, labels = to_cifar_rows(xtr[tr]), ytr[tr]
    for k, idx in enumerate(np.array_split(np.arange(len(tr)), 5), 1):
        write_batch(os.path.join(folder, f'data_batch_{k}'), f'training batch {k} of 5', rows[idx], labels[idx],
                    f'train{k}')
    write_batch(os.path.join(folder, 'test_batch'), 'testing batch 1 of 1', to_cifar_rows(xte[te]), yte[te], 'test')
    with open(os.path.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': CLASSES, 'num_cases_per_batch': len(tr) // 5, 'num_vis': 3072}, f, protocol=2)
    names = [f'data_batch_{k}' for k in range(1, 6)] + ['test_batch', 'batches.meta']
    manifest = {'source': 'Fashion-MNIST (real images) in CIFAR-10 layout, made by examples/prepare_cifar10.py',
                'md5': {n: md5(os.path.join(folder, n)) for n in names}}
    with open(os.path.join(folder, 'ember_prepared.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    return folder


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='data', help='the root passed to CIFAR10(root=...)')
    p.add_argument('--source', default=FASHION, help='folder with the Fashion-MNIST IDX files')
    p.add_argument('--train', type=int, default=10000, help='training images (at most 60000)')
    p.add_argument('--test', type=int, default=2000, help='test images (at most 10000)')
    args = p.parse_args(argv)
    folder = prepare(args.out, args.source, args.train, args.test)
    print(f'wrote CIFAR-10 layout to {folder} ({args.train} train / {args.test} test images)')


if __name__ == '__main__':
    main()
