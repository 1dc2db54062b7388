"""The packaged UCI digits (``ember.vision.datasets.Digits``) and ``ember demo``: the data is checked
against the raw CSV parsed with the stdlib; the demo runs as a command and in-process to full accuracy."""
import csv
import gzip
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import demo
from ember.vision import datasets, transforms
from ember.vision.datasets import digits

PIL = pytest.importorskip('PIL.Image')

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / 'ember' / 'data' / 'digits.csv.gz'
SHA256 = '09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22'
FASHION_DIR = '/usr/share/datasets/fashion-mnist'
HAS_MPL = importlib.util.find_spec('matplotlib') is not None
HAS_DOT = shutil.which('dot') is not None
ACCURACY = re.compile(r'final test accuracy: (\d+\.\d+)% on (\d+) (\S+) test images after (\d+) epochs? in '
                      r'(\d+\.\d+) s')
need_fashion = pytest.mark.skipif(not os.path.isfile(os.path.join(FASHION_DIR, 'train-images-idx3-ubyte.gz')),
                                  reason=f'Fashion-MNIST absent from {FASHION_DIR} (apt-get install '
                                         'dataset-fashion-mnist)')


def raw_rows():
    """The CSV rows as ints, parsed with the stdlib only."""
    with gzip.open(DATA, 'rt') as f:
        return np.array([[int(v) for v in row] for row in csv.reader(f)])


def test_packaged_file_and_attribution():
    assert hashlib.sha256(DATA.read_bytes()).hexdigest() == SHA256
    assert digits.packaged_path() == str(DATA)
    readme = (ROOT / 'ember' / 'data' / 'README.md').read_text()
    for fact in ['Alpaydin', 'Kaynak', 'CC BY 4.0', 'https://archive.ics.uci.edu/dataset/80', SHA256]:
        assert fact in readme


def test_digits_samples_shapes_and_labels():
    rows = raw_rows()
    assert rows.shape == (1797, 65) and rows[:, :64].min() == 0 and rows[:, :64].max() == 16
    train, test = datasets.Digits(), datasets.Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert tuple(train.data.shape) == (1437, 8, 8) and train.data.dtype == ember.uint8
    counts = np.bincount(train.targets.numpy(), minlength=10) + np.bincount(test.targets.numpy(), minlength=10)
    assert counts.tolist() == np.bincount(rows[:, 64]).tolist() and counts.min() >= 170 and counts.max() <= 185
    assert np.bincount(test.targets.numpy(), minlength=10).min() >= 20
    img, label = train[0]
    assert isinstance(img, PIL.Image) and img.size == (8, 8) and img.mode == 'L' and type(label) is int
    assert train.classes == [str(i) for i in range(10)] and train.class_to_idx['7'] == 7


def test_digits_split_is_deterministic_and_matches_the_file():
    rows = raw_rows()
    train_idx, test_idx = digits.split_indices(1797)
    assert len(set(train_idx) | set(test_idx)) == 1797 and not set(train_idx) & set(test_idx)
    test = datasets.Digits(train=False)
    expected = (rows[test_idx, :64].reshape(-1, 8, 8) * 255 + 8) // 16
    np.testing.assert_array_equal(test.data.numpy(), expected)
    np.testing.assert_array_equal(test.targets.numpy(), rows[test_idx, 64])
    np.testing.assert_array_equal(datasets.Digits(train=False).data.numpy(), test.data.numpy())
    assert test_idx[:8].tolist() == [4, 5, 6, 9, 14, 17, 18, 19] and train_idx[:4].tolist() == [0, 1, 2, 3]


def test_digits_transforms_and_root(tmp_path):
    shutil.copy(DATA, tmp_path / 'digits.csv.gz')
    ds = datasets.Digits(str(tmp_path), transform=transforms.ToTensor(), target_transform=lambda y: y + 100)
    x, y = ds[3]
    assert tuple(x.shape) == (1, 8, 8) and x.dtype == ember.float32 and 0 <= x.min().item() <= x.max().item() <= 1
    assert y == int(ds.targets[3]) + 100
    assert 'Split: Train' in repr(ds) and str(tmp_path) in repr(ds)


def run_demo(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    return subprocess.run([sys.executable, '-m', 'ember', 'demo', *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_command_one_epoch(tmp_path):
    done = run_demo(tmp_path, '--epochs', '1', '--out', 'pics')
    assert done.returncode == 0, done.stderr
    assert 'CC BY 4.0' in done.stdout and 'epoch 1/1: train loss' in done.stdout
    found = ACCURACY.search(done.stdout)
    assert found and found.group(2, 3, 4) == ('360', 'digits', '1') and float(found.group(1)) > 30
    assert (tmp_path / 'pics' / 'graph.dot').read_text().startswith('digraph')
    assert (tmp_path / 'pics' / 'graph.png').is_file() == HAS_DOT
    assert (tmp_path / 'pics' / 'loss_curve.png').is_file() == HAS_MPL


def test_demo_help_names_the_data_source(capsys):
    with pytest.raises(SystemExit) as exit_:
        demo.main(['--help'])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and '--dataset' in out and '--root' in out
    assert 'Alpaydin' in out and 'CC BY 4.0' in out and 'https://archive.ics.uci.edu/dataset/80' in out


def test_demo_reaches_95_percent(tmp_path, capsys):
    assert demo.main(['--out', str(tmp_path)]) == 0
    found = ACCURACY.search(capsys.readouterr().out)
    assert found and found.group(4) == '10' and float(found.group(1)) >= 95


def test_demo_without_tqdm_matplotlib_or_graphviz(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'tqdm', None)
    monkeypatch.setitem(sys.modules, 'matplotlib.figure', None)
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    assert demo.main(['--epochs', '1', '--batch-size', '128', '--out', str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert 'loss curve: skipped (matplotlib is not installed' in captured.out
    assert "DOT text; Graphviz's dot was not found" in captured.out and 'epoch 1/1' in captured.out
    assert captured.err == '' and sorted(os.listdir(tmp_path)) == ['graph.dot']


def test_demo_fashion_root_layouts(tmp_path, capsys):
    assert demo.main(['--dataset', 'fashion-mnist', '--root', str(tmp_path)]) == 1
    assert 'Dataset not found' in capsys.readouterr().err
    if not os.path.isfile(os.path.join(FASHION_DIR, 'train-images-idx3-ubyte.gz')):
        pytest.skip(f'Fashion-MNIST absent from {FASHION_DIR}')
    flat_train, flat_test = demo.load_fashion(FASHION_DIR, download=False)
    raw = tmp_path / 'FashionMNIST' / 'raw'
    raw.mkdir(parents=True)
    for name in os.listdir(FASHION_DIR):
        (raw / name).symlink_to(os.path.join(FASHION_DIR, name))
    train, test = demo.load_fashion(str(tmp_path), download=False)
    assert type(train) is datasets.FashionMNIST and isinstance(flat_train, datasets.FashionMNIST)
    assert (len(flat_train), len(flat_test), len(test)) == (60000, 10000, 10000)
    x, y = flat_test[0]
    assert tuple(x.shape) == (1, 28, 28) and y == 9 and ember.equal(x, test[0][0])


def test_demo_runs_on_numpy_alone(tmp_path):
    """Without Pillow, matplotlib and tqdm (blocked from import) the demo still trains, with the same
    numbers as the run with them (its images become tensors as ToTensor would make them)."""
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(
        'import sys\n'
        'class _Block:\n'
        '    def find_spec(self, name, path=None, target=None):\n'
        '        if name.split(".")[0] in ("PIL", "matplotlib", "tqdm"):\n'
        '            raise ImportError(f"{name} blocked for this test")\n'
        'sys.meta_path.insert(0, _Block())\n')
    root = Path(__file__).resolve().parents[1]

    def run(extra_path):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(extra_path + [str(root)]))
        r = subprocess.run([sys.executable, '-m', 'ember', 'demo', '--epochs', '1', '--out', str(tmp_path / 'o')],
                           env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        return [line for line in r.stdout.splitlines() if 'test accuracy' in line]
    def untimed(lines):
        return [re.sub(r'\d+\.\d+ s\b', '', x) for x in lines]
    bare = run([str(site)])
    assert bare and untimed(bare) == untimed(run([]))
