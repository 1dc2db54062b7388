"""``torch.version``: the version and build facts a CPU-only build reports (no CUDA, no ROCm)."""
from . import __version__

cuda = None
hip = None
xpu = None
debug = False
git_version = 'ember'
