"""ember.vision.transforms and ember.vision.utils against torch computations on the same pixels (and
Pillow itself for PIL paths). make_grid is checked against torchvision's algorithm re-written with torch."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember.vision import transforms as T
from ember.vision import utils as vutils
from ember.vision.transforms import functional as F

Image = pytest.importorskip('PIL.Image')


def rgb(h=12, w=16, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def etensor(arr):
    return ember.tensor(np.asarray(arr))


def same(t, expected, atol=0.0):
    """ember tensor ``t`` equals a torch tensor / array (exactly unless ``atol``)."""
    expected = expected.numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    got = t.numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if atol:
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    else:
        np.testing.assert_array_equal(got, expected)


def test_import_does_not_need_pillow():
    code = 'import sys, ember.vision; print("PIL" in sys.modules)'
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True).stdout.strip() == 'False'



def test_new_tensor_transforms_work_without_pillow():
    """Blur, erasing, gamma, dtype conversion, five/ten crops and the random colour ops on tensors, with Pillow
    unimportable."""
    code = ('import sys; sys.modules["PIL"] = None\n'
            'import ember; from ember.vision import transforms as T; F = T.functional\n'
            'x = (ember.rand(2, 3, 6, 7) * 255).to(ember.uint8)\n'
            'out = [F.gaussian_blur(x, 3), T.GaussianBlur(3)(x.float()), T.RandomErasing(p=1.0)(x),\n'
            '       F.adjust_gamma(x, 0.5), T.ConvertImageDtype(ember.float32)(x), T.TenCrop(4)(x)[9],\n'
            '       T.RandomInvert(1.0)(x), T.RandomPosterize(2, 1.0)(x), T.RandomSolarize(9, 1.0)(x),\n'
            '       T.RandomAdjustSharpness(2, 1.0)(x), T.RandomAutocontrast(1.0)(x), T.RandomEqualize(1.0)(x)]\n'
            'print([tuple(o.shape) for o in out][-1], "PIL" in sys.modules and sys.modules["PIL"] is not None)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '(2, 3, 6, 7) False'

# -- conversions ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('mode', ['RGB', 'L', 'RGBA'])
def test_to_tensor_pil_matches_torch(mode):
    img = rgb().convert(mode)
    expected = torch.from_numpy(np.array(img)).reshape(12, 16, -1).permute(2, 0, 1).float().div(255)
    same(T.ToTensor()(img), expected)


def test_to_tensor_ndarray_and_other_modes():
    arr = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    same(T.ToTensor()(arr), torch.from_numpy(arr).permute(2, 0, 1).float().div(255))
    same(T.ToTensor()(arr[:, :, 0]), torch.from_numpy(arr[:, :, :1]).permute(2, 0, 1).float().div(255))
    floats = np.random.default_rng(2).random((4, 6, 2))
    same(T.ToTensor()(floats), torch.from_numpy(floats).permute(2, 0, 1).contiguous())
    bw = Image.fromarray(arr[:, :, 0] > 128)
    same(T.ToTensor()(bw), torch.from_numpy((arr[:, :, 0] > 128)[None].astype(np.float32)))
    i32 = Image.fromarray(arr[:, :, 0].astype(np.int32) * 1000)
    same(T.ToTensor()(i32), torch.from_numpy(arr[None, :, :, 0].astype(np.int32) * 1000))
    with pytest.raises(TypeError):
        T.ToTensor()([[1, 2]])


def test_pil_to_tensor():
    img = rgb()
    same(T.PILToTensor()(img), torch.from_numpy(np.array(img)).permute(2, 0, 1))
    assert repr(T.PILToTensor()) == 'PILToTensor()' and repr(T.ToTensor()) == 'ToTensor()'


def test_to_pil_image():
    x = np.random.default_rng(3).random((3, 5, 4)).astype(np.float32)
    img = T.ToPILImage()(etensor(x))
    assert img.mode == 'RGB' and img.size == (4, 5)
    np.testing.assert_array_equal(np.asarray(img), torch.from_numpy(x).mul(255).byte().permute(1, 2, 0).numpy())
    gray = T.ToPILImage()(etensor(x[:1]))
    assert gray.mode == 'L'
    u8 = (x * 255).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(T.ToPILImage()(etensor(u8))), u8.transpose(1, 2, 0))
    assert T.ToPILImage()(u8.transpose(1, 2, 0)[:, :, :2]).mode == 'LA'
    assert T.ToPILImage(mode='F')(etensor(x[:1])).mode == 'F'
    with pytest.raises(ValueError, match='Incorrect mode'):
        T.ToPILImage(mode='RGB')(etensor(u8[:1]))
    assert repr(T.ToPILImage()) == 'ToPILImage()' and repr(T.ToPILImage('RGB')) == 'ToPILImage(mode=RGB)'


# -- Normalize ------------------------------------------------------------------------------------------------

def test_normalize_matches_torch():
    x = np.random.default_rng(4).random((2, 3, 5, 6)).astype(np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    expected = (torch.from_numpy(x) - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    src = etensor(x)
    out = T.Normalize(mean, std)(src)
    same(out, expected)
    np.testing.assert_array_equal(src.numpy(), x)
    assert repr(T.Normalize(mean, std)) == \
        'Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))'


def test_normalize_inplace_and_errors():
    x = np.random.default_rng(5).random((3, 4, 4)).astype(np.float32)
    src = etensor(x)
    out = T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5], inplace=True)(src)
    assert out is src
    same(src, (torch.from_numpy(x) - 0.5) / 0.5)
    with pytest.raises(TypeError):
        T.Normalize((0.5,), (0.5,))(etensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match='std evaluated to zero'):
        T.Normalize((0.5,), (0.0,))(etensor(x))
    with pytest.raises(TypeError):
        T.Normalize((0.5,), (0.5,))(rgb())


def test_normalize_is_differentiable():
    x = np.random.default_rng(6).random((3, 2, 2)).astype(np.float32)
    xe = ember.tensor(x, requires_grad=True)
    T.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(xe).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    ((xt - torch.tensor([0.1, 0.2, 0.3]).view(-1, 1, 1)) / torch.tensor([0.5, 0.25, 2.0]).view(-1, 1, 1)) \
        .sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


# -- Resize ---------------------------------------------------------------------------------------------------

def test_resize_pil_uses_pillow_and_size_rule():
    img = rgb(30, 40)
    out = T.Resize(20)(img)
    assert out.size == (26, 20)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((26, 20), Image.BILINEAR)))
    assert T.Resize((9, 50))(img).size == (50, 9)
    assert T.Resize([15])(img).size == (20, 15)
    assert T.Resize(10, max_size=12)(img).size == (12, 9)
    near = T.Resize((7, 5), interpolation=T.InterpolationMode.NEAREST)(img)
    np.testing.assert_array_equal(np.asarray(near), np.asarray(img.resize((5, 7), Image.NEAREST)))
    assert T.Resize(30)(img) is img


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('antialias', [True, False])
@pytest.mark.parametrize('size', [(7, 5), (25, 33), (12, 40)])
def test_resize_tensor_matches_torch_interpolate(mode, antialias, size):
    x = np.random.default_rng(7).random((2, 3, 12, 16)).astype(np.float32)
    out = T.Resize(size, interpolation=T.InterpolationMode(mode), antialias=antialias)(etensor(x))
    expected = TF.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=False, antialias=antialias)
    same(out, expected, atol=2e-5)


@pytest.mark.parametrize('mode', ['nearest', 'nearest-exact'])
@pytest.mark.parametrize('size', [(7, 5), (25, 33), (24, 32), (5, 16)])
def test_resize_tensor_nearest_matches_torch(mode, size):
    x = np.random.default_rng(8).random((3, 12, 16)).astype(np.float32)
    out = T.Resize(size, interpolation=T.InterpolationMode(mode))(etensor(x))
    same(out, TF.interpolate(torch.from_numpy(x)[None], size=size, mode=mode)[0])


def test_resize_uint8_tensor_rounds_like_torchvision():
    x = np.random.default_rng(9).integers(0, 256, (3, 20, 24), dtype=np.uint8)
    out = T.Resize(9)(etensor(x))
    ref = TF.interpolate(torch.from_numpy(x)[None].float(), size=(9, 10), mode='bilinear', align_corners=False,
                         antialias=True)[0].round().to(torch.uint8)
    assert out.dtype == ember.uint8 and tuple(out.shape) == (3, 9, 10)
    assert np.abs(out.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1


def test_resize_repr():
    assert repr(T.Resize(32)) == 'Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)'
    assert repr(T.Resize((3, 4), interpolation=Image.NEAREST)) == \
        'Resize(size=(3, 4), interpolation=nearest, max_size=None, antialias=True)'


# -- crops, pads, flips ---------------------------------------------------------------------------------------

def test_center_crop():
    img = rgb(12, 16)
    arr = np.asarray(img)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(5)(img)), arr[4:9, 6:11])
    np.testing.assert_array_equal(np.asarray(T.CenterCrop((4, 7))(img)), arr[4:8, 4:11])
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    same(T.CenterCrop((4, 7))(etensor(x.numpy())), x[:, 4:8, 4:11])
    big = TF.pad(x, [2, 2, 2, 3])
    same(T.CenterCrop((17, 20))(etensor(x.numpy())), big)
    np.testing.assert_array_equal(np.asarray(T.CenterCrop((17, 20))(img)), big.permute(1, 2, 0).numpy())
    assert repr(T.CenterCrop(5)) == 'CenterCrop(size=(5, 5))'


@pytest.mark.parametrize('mode, torch_mode', [('constant', 'constant'), ('edge', 'replicate'),
                                               ('reflect', 'reflect')])
@pytest.mark.parametrize('padding, ltrb', [(2, [2, 2, 2, 2]), ((1, 3), [1, 3, 1, 3]), ([1, 2, 3, 0], [1, 2, 3, 0])])
def test_pad_tensor_and_pil_match_torch(mode, torch_mode, padding, ltrb):
    arr = np.random.default_rng(10).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    x = torch.from_numpy(arr).permute(2, 0, 1).float()
    kwargs = {'value': 7.0} if mode == 'constant' else {}
    expected = TF.pad(x[None], [ltrb[0], ltrb[2], ltrb[1], ltrb[3]], mode=torch_mode, **kwargs)[0]
    same(T.Pad(padding, fill=7, padding_mode=mode)(etensor(x.numpy())), expected)
    out = T.Pad(padding, fill=7, padding_mode=mode)(Image.fromarray(arr))
    np.testing.assert_array_equal(np.asarray(out), expected.permute(1, 2, 0).to(torch.uint8).numpy())


def test_pad_symmetric_fill_tuple_and_negative():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = T.Pad((2, 1), padding_mode='symmetric')(Image.fromarray(arr))
    np.testing.assert_array_equal(np.asarray(out), np.pad(arr, ((1, 1), (2, 2)), 'symmetric'))
    same(F.pad(etensor(arr[None]), [2, 1], padding_mode='symmetric'),
         np.pad(arr, ((1, 1), (2, 2)), 'symmetric')[None])
    img = rgb(4, 5)
    out = T.Pad(1, fill=(10, 20, 30))(img)
    assert np.asarray(out)[0, 0].tolist() == [10, 20, 30]
    np.testing.assert_array_equal(np.asarray(out)[1:-1, 1:-1], np.asarray(img))
    x = torch.arange(30.).view(1, 5, 6)
    same(F.pad(etensor(x.numpy()), [-1, 2, 1, -2], padding_mode='edge'),
         TF.pad(x[None], [-1, 1, 2, -2], mode='replicate')[0])
    assert repr(T.Pad(4)) == 'Pad(padding=4, fill=0, padding_mode=constant)'


def test_crop_outside_is_zero_filled_like_torchvision():
    x = torch.arange(1., 21.).view(1, 4, 5)
    got = F.crop(etensor(x.numpy()), -1, 2, 3, 5)
    expected = torch.zeros(1, 3, 5)
    expected[:, 1:, :3] = x[:, :2, 2:]
    same(got, expected)
    img = Image.fromarray(x[0].numpy().astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(F.crop(img, -1, 2, 3, 5)), expected[0].numpy().astype(np.uint8))


def test_random_crop_reproducible_and_valid():
    arr = np.random.default_rng(11).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    tf = T.RandomCrop(8, padding=2)
    ember.manual_seed(3)
    first = [np.asarray(tf(img)) for _ in range(5)]
    ember.manual_seed(3)
    second = [np.asarray(tf(img)) for _ in range(5)]
    padded = np.pad(arr, ((2, 2), (2, 2), (0, 0)))
    windows = {padded[i:i + 8, j:j + 8].tobytes() for i in range(7) for j in range(9)}
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
        assert a.shape == (8, 8, 3) and a.tobytes() in windows
    assert len({a.tobytes() for a in first}) > 1
    grown = T.RandomCrop((12, 14), pad_if_needed=True, padding_mode='edge')(etensor(arr.transpose(2, 0, 1)))
    assert tuple(grown.shape) == (3, 12, 14)
    with pytest.raises(ValueError, match='larger than input image size'):
        T.RandomCrop(20)(img)
    assert repr(T.RandomCrop(32, padding=4)) == 'RandomCrop(size=(32, 32), padding=4)'


def test_flips():
    img = rgb()
    arr = np.array(img)
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(img)), arr[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1)(img)), arr[::-1])
    assert T.RandomHorizontalFlip(0.0)(img) is img
    x = torch.from_numpy(arr).permute(2, 0, 1).float()
    same(T.RandomHorizontalFlip(1.0)(etensor(x.numpy())), x.flip(-1))
    same(T.RandomVerticalFlip(1.0)(etensor(x.numpy())), x.flip(-2))
    ember.manual_seed(0)
    flipped = sum(T.RandomHorizontalFlip()(img) is not img for _ in range(400))
    assert 150 < flipped < 250
    assert repr(T.RandomHorizontalFlip()) == 'RandomHorizontalFlip(p=0.5)'
    assert repr(T.RandomVerticalFlip(0.3)) == 'RandomVerticalFlip(p=0.3)'


def test_random_resized_crop():
    img = rgb(20, 30)
    tf = T.RandomResizedCrop(8, scale=(0.2, 0.9))
    ember.manual_seed(5)
    params = [tf.get_params(img, tf.scale, tf.ratio) for _ in range(20)]
    ember.manual_seed(5)
    assert params == [tf.get_params(img, tf.scale, tf.ratio) for _ in range(20)]
    for i, j, h, w in params:
        assert 0 <= i <= 20 - h and 0 <= j <= 30 - w and h > 0 and w > 0
        assert 0.2 * 600 * 0.8 <= h * w <= 0.9 * 600 * 1.25
    assert T.RandomResizedCrop((6, 9))(img).size == (9, 6)
    assert T.RandomResizedCrop.get_params(img, (5.0, 6.0), (3 / 4, 4 / 3)) == (0, 1, 20, 27)
    i, j, h, w = 1, 2, 10, 12
    expected = img.crop((j, i, j + w, i + h)).resize((8, 8), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(F.resized_crop(img, i, j, h, w, [8, 8])), np.asarray(expected))
    assert repr(T.RandomResizedCrop(224)) == ('RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), '
                                              'ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)')


def test_grayscale():
    img = rgb()
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(img)), np.asarray(img.convert('L')))
    three = T.Grayscale(3)(img)
    assert three.mode == 'RGB' and (np.asarray(three)[..., 2] == np.asarray(img.convert('L'))).all()
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).contiguous()
    r, g, b = x.unbind(0)
    ref = (0.2989 * r + 0.587 * g + 0.114 * b).to(torch.uint8)[None]
    same(T.Grayscale()(etensor(x.numpy())), ref)
    xf = x.float() / 255
    r, g, b = xf.unbind(0)
    same(T.Grayscale(3)(etensor(xf.numpy())), (0.2989 * r + 0.587 * g + 0.114 * b)[None].expand(3, -1, -1))
    assert repr(T.Grayscale()) == 'Grayscale(num_output_channels=1)'


def test_compose_lambda_and_random_apply():
    tf = T.Compose([T.CenterCrop(8), T.ToTensor(), T.Lambda(lambda t: t.mul(2)),
                    T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    img = rgb()
    expected = torch.from_numpy(np.asarray(img)[2:10, 4:12].copy()).permute(2, 0, 1).float().div(255)
    same(tf(img), (expected * 2 - 0.5) / 0.5, atol=1e-6)
    assert repr(tf) == ('Compose(\n    CenterCrop(size=(8, 8))\n    ToTensor()\n    Lambda()\n'
                        '    Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))\n)')
    with pytest.raises(TypeError):
        T.Lambda(3)
    assert T.RandomApply([T.RandomHorizontalFlip(1.0)], p=0.0)(img) is img
    assert repr(T.RandomApply([T.Grayscale()], p=0.3)) == \
        'RandomApply(\n    p=0.3\n    Grayscale(num_output_channels=1)\n)'


# -- make_grid / save_image -----------------------------------------------------------------------------------

def torchvision_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
                          pad_value=0.0):
    """torchvision.utils.make_grid's algorithm, written with torch ops (torchvision is not installed)."""
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize:
        tensor = tensor.clone()

        def norm_range(t):
            low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
            t.clamp_(min=low, max=high)
            t.sub_(low).div_(max(high - low, 1e-5))
        for t in (tensor if scale_each else [tensor]):
            norm_range(t)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(tensor[k])
            k += 1
    return grid


@pytest.mark.parametrize('kwargs', [{}, {'nrow': 4, 'padding': 3, 'pad_value': 0.5}, {'normalize': True},
                                    {'normalize': True, 'value_range': (-0.5, 0.5)},
                                    {'normalize': True, 'scale_each': True, 'nrow': 3, 'padding': 0}])
@pytest.mark.parametrize('shape', [(10, 3, 5, 4), (7, 1, 6, 6), (1, 3, 4, 4), (3, 6, 6), (1, 5, 5), (5, 5)])
def test_make_grid_matches_torchvision_algorithm(kwargs, shape):
    x = np.random.default_rng(12).normal(size=shape).astype(np.float32)
    same(vutils.make_grid(etensor(x), **kwargs), torchvision_make_grid(torch.from_numpy(x), **kwargs))


def test_make_grid_list_and_errors():
    xs = [np.random.default_rng(i).random((3, 4, 5)).astype(np.float32) for i in range(3)]
    same(vutils.make_grid([etensor(a) for a in xs], nrow=2),
         torchvision_make_grid([torch.from_numpy(a) for a in xs], nrow=2))
    grid = vutils.make_grid(etensor(np.ones((2, 3, 2, 2), np.float32)), padding=1, pad_value=0.25)
    assert tuple(grid.shape) == (3, 4, 7)
    assert grid.numpy()[0].tolist()[0] == [0.25] * 7 and grid.numpy()[0, 1].tolist() == [0.25, 1, 1, 0.25,
                                                                                           1, 1, 0.25]
    with pytest.raises(TypeError):
        vutils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match='value_range'):
        vutils.make_grid(etensor(xs[0]), normalize=True, value_range=[0, 1])


def test_save_image(tmp_path):
    x = np.random.default_rng(13).random((4, 3, 6, 5)).astype(np.float32)
    path = tmp_path / 'grid.png'
    vutils.save_image(etensor(x), path, nrow=2, padding=1)
    grid = torchvision_make_grid(torch.from_numpy(x), nrow=2, padding=1)
    expected = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)
    with open(tmp_path / 'one.jpg', 'wb') as f:
        vutils.save_image(etensor(x[0]), f, format='PNG')
    assert Image.open(tmp_path / 'one.jpg').format == 'PNG'
