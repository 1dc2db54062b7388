"""``torchvision.io``'s image functions: read and decode PNG/JPEG (and what else Pillow reads) into uint8
(C, H, W) tensors, encode and write PNG/JPEG. Decoding goes through Pillow, the ``vision`` extra."""
import io
import os
from enum import Enum

import numpy as np

import ember

from .._image import pil_module

__all__ = ['ImageReadMode', 'read_file', 'write_file', 'decode_image', 'decode_png', 'decode_jpeg', 'decode_gif',
           'decode_webp', 'read_image', 'encode_png', 'encode_jpeg', 'write_png', 'write_jpeg']


class ImageReadMode(Enum):
    """How decoded images are converted: as stored, gray, gray+alpha, RGB or RGB+alpha."""
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_MAGIC = ((b'\x89PNG\r\n\x1a\n', 'png'), (b'\xff\xd8\xff', 'jpeg'), (b'GIF87a', 'gif'), (b'GIF89a', 'gif'))
_LIBPNG_GRAY = (6968, 23434, 2366)  # libpng's default RGB-to-gray weights, in 1/32768ths


def read_file(path):
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    path = os.fspath(path)
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise RuntimeError(f'[Errno {e.errno}] {e.strerror}: {path!r}') from None
    return ember.Tensor._make(np.frombuffer(data, np.uint8).copy())


def write_file(filename, data):
    """Write the bytes of a 1-D uint8 tensor to ``filename``."""
    _check_encoded(data)
    with open(os.fspath(filename), 'wb') as f:
        f.write(data._data.tobytes())


def _check_encoded(data):
    """The checks torchvision makes on an encoded-image tensor, with its messages."""
    if not isinstance(data, ember.Tensor):
        raise TypeError(f'Expected a torch.Tensor as input, got {type(data).__name__}')
    if data.dtype != ember.uint8:
        raise RuntimeError(f'Input tensor must have uint8 data type, got {data.dtype}')
    if data.dim() != 1 or data.numel() == 0:
        raise RuntimeError(f'Input tensor must be 1-dimensional and non-empty, got {data.dim()} dims  and '
                           f'{data.numel()} numels.')


def _mode(mode):
    """An ``ImageReadMode`` from a member or its name (``'RGB'``; an unknown name is a KeyError, as in
    torchvision)."""
    if isinstance(mode, str):
        return ImageReadMode[mode.upper()]
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f'mode must be an ImageReadMode or a string, got {type(mode).__name__}')
    return mode


def _open(data, fmt, mode):
    """A loaded PIL image of the encoded bytes; a JPEG read as gray takes libjpeg's luma channel."""
    image = pil_module()
    img = image.open(io.BytesIO(data))
    if fmt == 'jpeg' and mode is ImageReadMode.GRAY:
        img.draft('L', img.size)
    img.load()
    return img


def _as_stored(img):
    """Convert Pillow's storage modes to the channels torchvision decodes to (palette to RGB(A), CMYK and
    YCbCr to RGB, 1-bit to gray)."""
    if img.mode == 'P':
        return img.convert('RGBA' if 'transparency' in img.info else 'RGB')
    if img.mode == 'PA':
        return img.convert('RGBA')
    if img.mode in ('CMYK', 'YCbCr'):
        return img.convert('RGB')
    if img.mode == '1':
        return img.convert('L')
    if img.mode not in ('L', 'LA', 'RGB', 'RGBA'):
        raise RuntimeError(f'images of Pillow mode {img.mode!r} (16-bit or float) are not supported by ember yet: '
                           'its decoders read 8-bit images (Pillow keeps 16-bit color PNGs to 8 bits, where '
                           'torchvision decodes uint16); for a 16-bit gray image, PILToTensor gives its uint16 tensor')
    return img


def _png_gray(arr):
    """libpng's RGB-to-gray (integer weights, rounded), used for color PNGs read as GRAY."""
    r, g, b = (arr[..., i].astype(np.uint32) for i in range(3))
    return ((_LIBPNG_GRAY[0] * r + _LIBPNG_GRAY[1] * g + _LIBPNG_GRAY[2] * b + 16384) >> 15).astype(np.uint8)


def _convert(arr, fmt, mode):
    """Channels (H, W, C) of a decoded image converted to ``mode``; alpha is dropped or set opaque."""
    if mode is ImageReadMode.UNCHANGED:
        return arr
    color, alpha = arr[..., :3 if arr.shape[-1] >= 3 else 1], arr[..., -1:] if arr.shape[-1] in (2, 4) else None
    if mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA):
        if color.shape[-1] == 3:
            color = _png_gray(color)[..., None] if fmt == 'png' else _luma601(color)[..., None]
    else:
        color = np.repeat(color, 3, axis=-1) if color.shape[-1] == 1 else color
    if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
        alpha = alpha if alpha is not None else np.full(color.shape[:-1] + (1,), 255, np.uint8)
        return np.concatenate([color, alpha], axis=-1)
    return color


def _luma601(arr):
    """ITU-R 601 luma, as libjpeg and Pillow compute it, for color images other than PNG read as GRAY."""
    r, g, b = (arr[..., i].astype(np.uint32) for i in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16).astype(np.uint8)


def _format(raw):
    """'png', 'jpeg', 'gif' or 'webp' from the file's first bytes, else None."""
    fmt = next((f for magic, f in _MAGIC if raw.startswith(magic)), None)
    if fmt is None and raw[:4] == b'RIFF' and raw[8:12] == b'WEBP':
        fmt = 'webp'
    return fmt


def _decode(data, mode, apply_exif_orientation, expect=None):
    """Decode an encoded-image tensor (the shared body of the ``decode_*`` functions)."""
    _check_encoded(data)
    mode = _mode(mode)
    raw = data._data.tobytes()
    fmt = _format(raw)
    if expect == 'webp' and fmt != 'webp':
        raise RuntimeError('Input is not a WebP image')
    if expect == 'png' and fmt != 'png':
        raise RuntimeError('Content is not png!')
    if expect == 'jpeg' and fmt != 'jpeg':
        raise RuntimeError(f'Not a JPEG file: starts with 0x{raw[0]:02x} 0x{raw[1] if len(raw) > 1 else 0:02x}')
    if fmt is None:
        raise RuntimeError('Unsupported image file. Only jpeg, png, webp and gif are currently supported.')
    img = _open(raw, fmt, mode)
    if apply_exif_orientation:
        img = _exif_transpose(img)
    arr = np.asarray(_as_stored(img), dtype=np.uint8)
    arr = _convert(arr if arr.ndim == 3 else arr[..., None], fmt, mode)
    return ember.Tensor._make(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def _exif_transpose(img):
    from PIL import ImageOps
    return ImageOps.exif_transpose(img)


def _each(input, fn, empty_message):
    """Apply ``fn`` to a tensor, or to each tensor of a non-empty list (the batched form torchvision
    accepts)."""
    if isinstance(input, list):
        if not input:
            raise ValueError(empty_message)
        if not all(isinstance(t, ember.Tensor) for t in input):
            raise ValueError('All elements of the input list must be tensors.')
        return [fn(x) for x in input]
    return fn(input)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a PNG, JPEG, GIF or WebP (a 1-D uint8 tensor of its bytes, or a path) into a uint8 (C, H, W)
    tensor; ``mode`` converts the channels."""
    if not isinstance(input, ember.Tensor):
        input = read_file(input)
    return _decode(input, mode, apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode PNG bytes into a uint8 (C, H, W) tensor."""
    return _decode(input, mode, apply_exif_orientation, expect='png')


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device='cpu', apply_exif_orientation=False):
    """Decode JPEG bytes (a tensor, or a list of them) into uint8 (C, H, W) tensor(s) on the CPU."""
    if ember.device(device).type != 'cpu':
        raise RuntimeError(f'decode_jpeg on device {device!r} is not supported by ember (CPU only)')
    return _each(input, lambda x: _decode(x, mode, apply_exif_orientation, expect='jpeg'),
                 'Input list must contain at least one element')


def decode_webp(input, mode=ImageReadMode.UNCHANGED):
    """Decode WebP bytes into a uint8 (C, H, W) tensor."""
    return _decode(input, mode, False, expect='webp')


def decode_gif(input):
    """Decode GIF bytes into a uint8 RGB (C, H, W) tensor, or (N, C, H, W) for N frames."""
    _check_encoded(input)
    raw = input._data.tobytes()
    if _format(raw) != 'gif':
        raise RuntimeError('Input is not a GIF')
    img = pil_module().open(io.BytesIO(raw))
    frames = []
    for i in range(getattr(img, 'n_frames', 1)):
        img.seek(i)
        frames.append(np.asarray(img.convert('RGB'), dtype=np.uint8).transpose(2, 0, 1))
    out = frames[0] if len(frames) == 1 else np.stack(frames)
    return ember.Tensor._make(np.ascontiguousarray(out))


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read a PNG, JPEG, GIF or WebP file into a uint8 (C, H, W) tensor."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _pil_from_chw(input):
    """A PIL image of a uint8 (C, H, W) tensor with 1 or 3 channels (what torchvision's encoders take)."""
    if not isinstance(input, ember.Tensor):
        raise TypeError(f'Expected a torch.Tensor as input, got {type(input).__name__}')
    if input.dtype != ember.uint8:
        raise RuntimeError(f'Input tensor dtype should be uint8, got {input.dtype}')
    if input.dim() != 3:
        raise RuntimeError(f'Input data should be a 3-dimensional tensor, got {input.dim()} dims')
    channels = input.shape[0]
    if channels not in (1, 3):
        raise RuntimeError(f'The number of channels should be 1 or 3, got: {channels}')
    arr = np.ascontiguousarray(input._data.transpose(1, 2, 0))
    return pil_module().fromarray(arr[..., 0] if channels == 1 else arr, mode='L' if channels == 1 else 'RGB')


def _bytes_tensor(img, fmt, **options):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return ember.Tensor._make(np.frombuffer(buf.getvalue(), np.uint8).copy())


def encode_png(input, compression_level=6):
    """The PNG bytes of a uint8 (C, H, W) image as a 1-D uint8 tensor."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError('Compression level should be between 0 and 9')
    return _bytes_tensor(_pil_from_chw(input), 'PNG', compress_level=compression_level)


def encode_jpeg(input, quality=75):
    """The JPEG bytes of a uint8 (C, H, W) image (or a list of them) as 1-D uint8 tensor(s)."""
    if not 1 <= quality <= 100:
        raise ValueError('Image quality should be a positive number between 1 and 100')
    return _each(input, lambda x: _bytes_tensor(_pil_from_chw(x), 'JPEG', quality=quality),
                 'encode_jpeg requires at least one input tensor when a list is passed')


def write_png(input, filename, compression_level=6):
    """Write a uint8 (C, H, W) image to ``filename`` as PNG."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    """Write a uint8 (C, H, W) image to ``filename`` as JPEG."""
    write_file(filename, encode_jpeg(input, quality))
