"""ember.vision against real torchvision 0.28 (tests/helpers.import_torchvision): models' state dicts, reprs and
forward values, and datasets' error messages. The transforms, make_grid/save_image and the datasets' items are
checked by the registry (tests/registry_data.py, run by tests/test_registry_data.py)."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import datasets as edatasets, models as emodels, transforms as ET

from helpers import assert_same, import_torchvision

tv = import_torchvision()
TT = tv.transforms
Image = pytest.importorskip('PIL.Image')


def _image(h=11, w=14, seed=0, mode='RGB'):
    """A small random PIL image and the same pixels as uint8 CHW arrays."""
    rng = np.random.default_rng(seed)
    c = {'RGB': 3, 'L': 1, 'RGBA': 4}[mode]
    arr = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    return Image.fromarray(arr[..., 0] if c == 1 else arr, mode)


def _same_pil(a, b):
    assert type(a) is type(b) or (isinstance(a, Image.Image) and isinstance(b, Image.Image))
    assert a.mode == b.mode and a.size == b.size
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _inputs(kind, h=11, w=14, seed=0):
    img = _image(h, w, seed)
    if kind == 'pil':
        return img, img
    arr = np.asarray(img).transpose(2, 0, 1).copy()
    if kind == 'uint8':
        return ember.tensor(arr), torch.tensor(arr)
    f = arr.astype(np.float32) / 255
    return ember.tensor(f), torch.tensor(f)


# --- models: the architectures' layout, repr, initialisation and forward values against torchvision's ---

@pytest.mark.parametrize('name', ['resnet18', 'mobilenet_v2', 'resnext50_32x4d'])
def test_model_layout_repr_and_init_match_torchvision(name):
    ember.manual_seed(0)
    e = emodels.get_model(name)
    torch.manual_seed(0)
    t = tv.models.get_model(name)
    assert repr(e) == repr(t)
    es, ts = e.state_dict(), t.state_dict()
    assert [(k, tuple(v.shape)) for k, v in es.items()] == [(k, tuple(v.shape)) for k, v in ts.items()]
    for k in ('conv1.weight', 'features.0.0.weight', 'features.0.weight', 'fc.weight', 'classifier.1.weight'):
        if k in ts:   # the same seed draws the same initial weights
            np.testing.assert_array_equal(es[k].numpy(), ts[k].numpy(), err_msg=k)


@pytest.mark.parametrize('name', ['resnet18', 'mobilenet_v2'])
def test_model_forward_matches_torchvision_with_its_weights(name):
    t = tv.models.get_model(name, num_classes=10).eval()
    e = emodels.get_model(name, num_classes=10).eval()
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.tensor(x))
    with ember.no_grad():
        got = e(ember.tensor(x))
    assert_same(got, want, atol=1e-4, rtol=1e-4)


def _words(s):
    return ' '.join(s.split()) if isinstance(s, str) else s


def _same_meta(a, b):
    assert a.keys() == b.keys()
    for k in b:
        if k == '_metrics':
            assert repr(a[k]) == repr(b[k])     # nan metrics (VGG16's features-only weights) compare by repr
        else:
            assert _words(a[k]) == _words(b[k]), k


@pytest.mark.parametrize('name', ['resnet50', 'mobilenet_v2', 'vgg16', 'alexnet', 'wide_resnet50_2'])
def test_weights_enums_match_torchvision(name):
    ew, tw = emodels.get_model_weights(name), tv.models.get_model_weights(name)
    assert [w.name for w in ew] == [w.name for w in tw] and ew.DEFAULT.name == tw.DEFAULT.name
    for w in tw:
        e = ew[w.name]
        assert repr(e) == repr(w) and e.url == w.url
        _same_meta(e.meta, w.meta)
        assert repr(e.transforms()) == repr(w.transforms())


def test_weights_transforms_output_matches_torchvision():
    img = _image(40, 52, seed=3)
    e = emodels.ResNet50_Weights.DEFAULT.transforms()(img)
    t = tv.models.ResNet50_Weights.DEFAULT.transforms()(img)
    assert_same(e, t, atol=1e-5, rtol=0)


# --- datasets: the messages of their errors (the registry checks their items) ---


def _food101_tree(root):
    """A two-class Food-101 in the archive's layout: images/<class>/<id>.jpg and meta/{train,test}.json."""
    import json
    meta = {'train': {'ramen': ['ramen/11', 'ramen/3'], 'apple_pie': ['apple_pie/7']},
            'test': {'ramen': ['ramen/5'], 'apple_pie': ['apple_pie/2', 'apple_pie/9']}}
    (root / 'food-101' / 'meta').mkdir(parents=True)
    for split, classes in meta.items():
        (root / 'food-101' / 'meta' / f'{split}.json').write_text(json.dumps(classes))
        for i, rel in enumerate(p for paths in classes.values() for p in paths):
            path = root / 'food-101' / 'images' / f'{rel}.jpg'
            path.parent.mkdir(parents=True, exist_ok=True)
            _image(6, 7, seed=i).save(path, format='JPEG')


def test_food101_reads_torchvisions_layout(tmp_path):
    for lib in (edatasets, tv.datasets):
        with pytest.raises(RuntimeError, match='Dataset not found. You can use download=True to download it'):
            lib.Food101(str(tmp_path))
        with pytest.raises(ValueError, match="Unknown value 'val' for argument split. Valid values are "
                                             "{'train', 'test'}."):
            lib.Food101(str(tmp_path), split='val')
    _food101_tree(tmp_path)
    for split in ('train', 'test'):
        e = edatasets.Food101(str(tmp_path), split=split, transform=ET.ToTensor())
        t = tv.datasets.Food101(str(tmp_path), split=split, transform=TT.ToTensor())
        assert repr(e) == repr(t) and len(e) == len(t) and e.classes == t.classes
        assert e.class_to_idx == t.class_to_idx and e._image_files == t._image_files
        for i in range(len(t)):
            assert_same(e[i][0], t[i][0], atol=0, rtol=0)
            assert e[i][1] == t[i][1]


def test_svhn_reads_the_mat_files(tmp_path, monkeypatch):
    """A local train_32x32.mat in SVHN's layout (X: 32x32x3xN, y: Nx1 with 10 for the digit 0); the md5 check
    is bypassed in both libraries since the file is not the real one."""
    scipy_io = pytest.importorskip('scipy.io')
    for lib in (edatasets, tv.datasets):
        with pytest.raises(RuntimeError, match='Dataset not found or corrupted. You can use download=True to '
                                               'download it'):
            lib.SVHN(str(tmp_path))
        with pytest.raises(ValueError, match="Unknown value 'dev' for argument split"):
            lib.SVHN(str(tmp_path), split='dev')
    rng = np.random.default_rng(0)
    scipy_io.savemat(tmp_path / 'train_32x32.mat', {'X': rng.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8),
                                                    'y': np.array([[10], [1], [7], [10]], np.uint8)})
    import ember.vision.datasets.svhn as esvhn
    import torchvision.datasets.svhn as tsvhn
    monkeypatch.setattr(esvhn, 'check_integrity', lambda *a: True)
    monkeypatch.setattr(tsvhn, 'check_integrity', lambda *a: True)
    e = edatasets.SVHN(str(tmp_path), transform=ET.ToTensor())
    t = tv.datasets.SVHN(str(tmp_path), transform=TT.ToTensor())
    assert repr(e) == repr(t) and len(e) == len(t) == 4
    np.testing.assert_array_equal(e.data, t.data)
    np.testing.assert_array_equal(e.labels, t.labels)
    for i in range(4):
        assert_same(e[i][0], t[i][0], atol=0, rtol=0)
        assert e[i][1] == t[i][1]


@pytest.mark.parametrize('classes, match', [
    ('dev', "Unknown value '' for LSUN class. Valid values are {'bedroom', "),   # torchvision splits the string
    (['kitchen_train', 'garage_val'], "Unknown value 'garage' for LSUN class. Valid values are {'bedroom', "),
    (['living_room_tst'], "Unknown value 'tst' for postfix. Valid values are {'train', 'val', 'test'}."),
    ([3], "Expected type str, but got type <class 'int'>."),
    (7, "Expected type str or Iterable for argument classes, but got type <class 'int'>."),
])
def test_lsun_class_names_are_checked_as_torchvision_checks_them(tmp_path, classes, match):
    for lib in (edatasets, tv.datasets):
        with pytest.raises(ValueError, match=match.replace('{', r'\{').replace('}', r'\}').replace('(', r'\(')):
            lib.LSUN(str(tmp_path), classes=classes)


def test_lsun_needs_lmdb(tmp_path):
    try:
        import lmdb  # noqa: F401
    except ImportError:
        for lib in (edatasets, tv.datasets):
            with pytest.raises(ImportError, match='lmdb'):
                lib.LSUN(str(tmp_path), classes=['bedroom_train'])
        with pytest.raises(ImportError, match='pip install lmdb'):
            edatasets.LSUN(str(tmp_path), classes='test')
    else:
        pytest.skip('lmdb is installed: the missing-package error cannot be shown')
