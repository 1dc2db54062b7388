"""torchvision.io image reading/writing and datasets.ImageFolder/DatasetFolder on files the tests write."""
import os
import sys

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import datasets, io
from ember.vision.io import ImageReadMode

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (5, 7), dtype=np.uint8)


def write(tmp_path, name, arr, mode=None, **options):
    path = tmp_path / name
    Image.fromarray(arr, mode=mode).save(path, **options)
    return path


def chw(arr):
    return arr.transpose(2, 0, 1) if arr.ndim == 3 else arr[None]


# --- reading ---

@pytest.mark.parametrize('arr', [RGB, RGBA, GRAY], ids=['rgb', 'rgba', 'gray'])
def test_read_png_unchanged_is_lossless(tmp_path, arr):
    path = write(tmp_path, 'a.png', arr)
    img = io.read_image(str(path))
    assert img.dtype == ember.uint8 and tuple(img.shape) == chw(arr).shape
    np.testing.assert_array_equal(img.numpy(), chw(arr))
    np.testing.assert_array_equal(io.decode_image(path).numpy(), chw(arr))
    np.testing.assert_array_equal(io.decode_png(io.read_file(path)).numpy(), chw(arr))


def test_read_modes(tmp_path):
    rgba = write(tmp_path, 'a.png', RGBA)
    gray = write(tmp_path, 'g.png', GRAY)
    np.testing.assert_array_equal(io.read_image(rgba, ImageReadMode.RGB).numpy(), chw(RGBA[..., :3]))
    np.testing.assert_array_equal(io.read_image(rgba, 'RGB').numpy(), chw(RGBA[..., :3]))
    np.testing.assert_array_equal(io.read_image(gray, ImageReadMode.RGB).numpy(), chw(np.stack([GRAY] * 3, -1)))
    ga = io.read_image(gray, ImageReadMode.GRAY_ALPHA).numpy()
    np.testing.assert_array_equal(ga, np.stack([GRAY, np.full_like(GRAY, 255)]))
    rgb_a = io.read_image(write(tmp_path, 'b.png', RGB), ImageReadMode.RGB_ALPHA).numpy()
    np.testing.assert_array_equal(rgb_a[:3], chw(RGB))
    assert (rgb_a[3] == 255).all()
    g = io.read_image(rgba, ImageReadMode.GRAY).numpy().astype(np.int64)
    r, gg, b = (RGBA[..., i].astype(np.int64) for i in range(3))
    expected = (6968 * r + 23434 * gg + 2366 * b + 16384) >> 15  # libpng's weights
    assert g.shape == (1, 5, 7)
    np.testing.assert_array_equal(g[0], expected)


def test_palette_png_becomes_rgb(tmp_path):
    img = Image.fromarray(RGB).convert('P', palette=Image.ADAPTIVE, colors=8)
    path = tmp_path / 'p.png'
    img.save(path)
    out = io.read_image(path)
    np.testing.assert_array_equal(out.numpy(), chw(np.asarray(img.convert('RGB'))))


def test_read_jpeg(tmp_path):
    smooth = np.add.outer(np.arange(16), np.arange(16)).astype(np.uint8) * 7
    arr = np.stack([smooth, smooth[::-1], smooth.T], -1)
    path = write(tmp_path, 'a.jpg', arr, quality=95)
    out = io.read_image(path)
    assert out.dtype == ember.uint8 and tuple(out.shape) == (3, 16, 16)
    np.testing.assert_array_equal(out.numpy(), chw(np.asarray(Image.open(path).convert('RGB'))))
    gray = io.decode_jpeg(io.read_file(path), mode=ImageReadMode.GRAY)
    assert tuple(gray.shape) == (1, 16, 16)
    luma = 0.299 * arr[..., 0] + 0.587 * arr[..., 1] + 0.114 * arr[..., 2]
    assert np.abs(gray.numpy()[0] - luma).max() < 6
    assert len(io.decode_jpeg([io.read_file(path)] * 2)) == 2


def test_gif_and_webp(tmp_path):
    frames = [Image.fromarray(RGB), Image.fromarray(RGB[::-1].copy())]
    frames[0].save(tmp_path / 'a.gif', save_all=True, append_images=frames[1:])
    data = io.read_file(tmp_path / 'a.gif')
    out = io.decode_gif(data)
    assert out.dtype == ember.uint8 and tuple(out.shape) == (2, 3, 5, 7)
    with Image.open(tmp_path / 'a.gif') as gif:
        gif.seek(1)
        np.testing.assert_array_equal(out.numpy()[1], chw(np.asarray(gif.convert('RGB'))))
    assert tuple(io.decode_image(data).shape) == (3, 5, 7)
    with pytest.raises(RuntimeError, match='Input is not a GIF'):
        io.decode_gif(io.read_file(write(tmp_path, 'a.png', RGB)))
    from PIL import features
    if features.check('webp'):
        path = write(tmp_path, 'a.webp', RGB, lossless=True)
        np.testing.assert_array_equal(io.decode_webp(io.read_file(path)).numpy(), chw(RGB))
        np.testing.assert_array_equal(io.read_image(path, 'RGB').numpy(), chw(RGB))


def test_write_png_and_jpeg(tmp_path):
    t = ember.tensor(chw(RGB).copy())
    io.write_png(t, str(tmp_path / 'w.png'))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / 'w.png')), RGB)
    encoded = io.encode_png(t, compression_level=9)
    assert encoded.dtype == ember.uint8 and encoded.dim() == 1
    np.testing.assert_array_equal(io.decode_png(encoded).numpy(), chw(RGB))
    io.write_jpeg(t, tmp_path / 'w.jpg', quality=90)
    assert Image.open(tmp_path / 'w.jpg').format == 'JPEG'
    assert tuple(io.read_image(tmp_path / 'w.jpg').shape) == (3, 5, 7)


def test_io_errors(tmp_path):
    with pytest.raises(RuntimeError, match="No such file or directory: '.*missing.png'"):
        io.read_image(str(tmp_path / 'missing.png'))
    jpg = io.read_file(write(tmp_path, 'a.jpg', RGB))
    with pytest.raises(RuntimeError, match='Content is not png'):
        io.decode_png(jpg)
    png = io.read_file(write(tmp_path, 'a.png', RGB))
    with pytest.raises(RuntimeError, match='Not a JPEG file: starts with 0x89 0x50'):
        io.decode_jpeg(png)
    with pytest.raises(RuntimeError, match='Unsupported image file'):
        io.decode_image(ember.tensor([1, 2, 3, 4], dtype=ember.uint8))
    with pytest.raises(RuntimeError, match='Input tensor must have uint8 data type'):
        io.decode_image(ember.zeros(4))
    with pytest.raises(RuntimeError, match='Input tensor must be 1-dimensional and non-empty'):
        io.decode_image(ember.zeros(2, 2, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match='The number of channels should be 1 or 3, got: 4'):
        io.encode_jpeg(ember.zeros(4, 2, 2, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match='The number of channels should be 1 or 3, got: 2'):
        io.encode_png(ember.zeros(2, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match='Input list must contain at least one element'):
        io.decode_jpeg([])
    with pytest.raises(KeyError):
        io.decode_image(png, mode='RGBX')
    assert io.ImageReadMode.RGBA is io.ImageReadMode.RGB_ALPHA


def test_missing_pillow_names_the_extra(tmp_path, monkeypatch):
    path = write(tmp_path, 'a.png', RGB)
    monkeypatch.setitem(sys.modules, 'PIL', None)
    monkeypatch.setitem(sys.modules, 'PIL.Image', None)
    with pytest.raises(ImportError, match='needs Pillow for images: pip install pillow'):
        io.read_image(path)
    assert io.read_file(path).numel() == os.path.getsize(path)


# --- ImageFolder / DatasetFolder ---

@pytest.fixture
def folder(tmp_path):
    """root/cat: 2 PNGs and a .txt; root/dog: 1 PNG in a sub-folder and 1 JPEG; root/empty: nothing."""
    root = tmp_path / 'root'
    for d in ('dog/sub', 'cat', 'empty'):
        (root / d).mkdir(parents=True)
    write(root / 'cat', 'b.png', RGB)
    write(root / 'cat', 'a.PNG', GRAY)
    (root / 'cat' / 'notes.txt').write_text('not an image')
    write(root / 'dog' / 'sub', 'c.png', RGBA)
    write(root / 'dog', 'z.jpg', RGB)
    return root


def test_image_folder(folder):
    with pytest.raises(FileNotFoundError, match='Found no valid file for the classes empty. Supported extensions '
                                                'are: .jpg, .jpeg, .png'):
        datasets.ImageFolder(str(folder))
    ds = datasets.ImageFolder(str(folder), allow_empty=True)
    assert ds.classes == ['cat', 'dog', 'empty'] and ds.class_to_idx == {'cat': 0, 'dog': 1, 'empty': 2}
    rel = [(os.path.relpath(p, folder), t) for p, t in ds.samples]
    assert rel == [('cat/a.PNG', 0), ('cat/b.png', 0), ('dog/z.jpg', 1), ('dog/sub/c.png', 1)]
    assert ds.targets == [0, 0, 1, 1] and ds.imgs is ds.samples and len(ds) == 4
    assert ds.extensions == datasets.folder.IMG_EXTENSIONS
    img, target = ds[0]
    assert img.mode == 'RGB' and img.size == (7, 5) and target == 0
    np.testing.assert_array_equal(np.asarray(ds[3][0]), RGBA[..., :3])


def test_image_folder_transforms_and_filters(folder):
    from ember.vision import transforms
    ds = datasets.ImageFolder(folder, transform=transforms.ToTensor(), target_transform=lambda t: t * 10,
                              is_valid_file=lambda p: p.endswith('.png'), allow_empty=True)
    assert ds.extensions is None and [t for _, t in ds.samples] == [0, 1]
    x, y = ds[1]
    assert tuple(x.shape) == (3, 5, 7) and y == 10
    assert 'Number of datapoints: 2' in repr(ds) and 'ToTensor()' in repr(ds)
    with pytest.raises(ValueError, match='Both extensions and is_valid_file cannot be None or not None'):
        datasets.DatasetFolder(folder, loader=open)
    ds = datasets.DatasetFolder(folder, loader=lambda p: open(p).read(), extensions='.txt', allow_empty=True)
    assert ds[0] == ('not an image', 0) and len(ds) == 1


def test_find_classes_and_errors(tmp_path, folder):
    assert datasets.folder.find_classes(folder) == (['cat', 'dog', 'empty'], {'cat': 0, 'dog': 1, 'empty': 2})
    (tmp_path / 'flat').mkdir()
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(tmp_path / 'flat')
    with pytest.raises(ValueError, match="'class_to_index' must have at least one entry"):
        datasets.folder.make_dataset(str(folder), {}, extensions='.png')
    with pytest.raises(ValueError, match='The class_to_idx parameter cannot be None'):
        datasets.DatasetFolder.make_dataset(str(folder), None, extensions='.png')

    class OnlyCats(datasets.DatasetFolder):
        def find_classes(self, directory):
            return ['cat'], {'cat': 5}

    ds = OnlyCats(folder, loader=str, extensions=('.png',))
    assert ds.targets == [5, 5] and ds.classes == ['cat']
