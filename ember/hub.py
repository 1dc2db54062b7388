"""``torch.hub``'s checkpoint cache: where pretrained weights are downloaded and loaded from.

Only the file cache is provided (``get_dir``, ``load_state_dict_from_url``...); ``hub.load`` of a
GitHub repository, which runs that repository's code, is not.
"""
import hashlib
import os
import re
import sys
import warnings
from urllib.parse import urlparse

__all__ = ['get_dir', 'set_dir', 'download_url_to_file', 'load_state_dict_from_url']


class _Faketqdm:
    """PyTorch's stand-in for tqdm when tqdm is not installed: percent (or bytes) written to stderr."""

    def __init__(self, total=None, disable=False, unit=None, *args, **kwargs):
        self.total, self.disable, self.n = total, disable, 0

    def update(self, n):
        """Count ``n`` more and rewrite the progress line."""
        if self.disable:
            return
        self.n += n
        sys.stderr.write(f'\r{self.n:.1f} bytes' if self.total is None else f'\r{100 * self.n / float(self.total):.1f}%')
        sys.stderr.flush()

    def set_description(self, *args, **kwargs):
        """Ignored, as PyTorch's."""

    def write(self, s):
        sys.stderr.write(f'{s}\n')

    def close(self):
        self.disable = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.disable:
            sys.stderr.write('\n')


try:    # torch.hub.tqdm (torchio imports it): tqdm's own where installed, as PyTorch
    from tqdm import tqdm
except ImportError:
    tqdm = _Faketqdm

HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')
_hub_dir = None


def _get_torch_home():
    """``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch`` (as PyTorch)."""
    default = os.path.join(os.getenv('XDG_CACHE_HOME', '~/.cache'), 'torch')
    return os.path.expanduser(os.getenv('TORCH_HOME', default))


def get_dir():
    """The hub cache folder: the one ``set_dir`` chose, else ``<torch home>/hub``."""
    if os.getenv('TORCH_HUB'):
        warnings.warn('TORCH_HUB is deprecated, please use env TORCH_HOME instead')
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), 'hub')


def set_dir(d):
    """Use folder ``d`` as the hub cache."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _sha256(path, chunk_size=1024 * 1024):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to ``dst`` (through ember's dataset downloader); with ``hash_prefix``, check that
    the file's sha256 starts with it and delete it otherwise. A failed download raises what PyTorch's
    ``urlopen`` raises (``urllib.error.URLError`` offline: piq's BRISQUE weights), noting where to put the file."""
    from .vision.datasets.utils import DownloadError, download_url
    dst = os.path.expanduser(os.fspath(dst))
    try:
        download_url(url, os.path.dirname(dst) or '.', os.path.basename(dst))
    except DownloadError as e:
        error = e.__cause__ if isinstance(e.__cause__, (OSError, ValueError)) else e
        if hasattr(error, 'add_note'):   # Python 3.11+: shown under the traceback, not in str(error)
            error.add_note(f'ember: without network access, fetch {url} on another machine and copy it to {dst}')
        raise error from None
    if hash_prefix is not None:
        digest = _sha256(dst)
        if not digest.startswith(hash_prefix):
            os.remove(dst)
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=False):
    """Load the checkpoint at ``url``, downloading it into ``<hub dir>/checkpoints`` the first time."""
    if os.getenv('TORCH_MODEL_ZOO'):
        warnings.warn('TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead')
    if model_dir is None:
        model_dir = os.path.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        match = HASH_REGEX.search(filename) if check_hash else None
        download_url_to_file(url, cached_file, match.group(1) if match else None, progress=progress)
    from .serialization import load
    return load(cached_file, map_location=map_location, weights_only=weights_only)
