"""``torch.version``: the version and build facts a CPU-only build reports (no CUDA, no ROCm).

``__version__`` names the PyTorch release whose API ember follows, with ember's own version as the local label
('2.13.0+ember0.1.0' where a CPU build of PyTorch says '2.13.0+cpu'), so scripts that check the PyTorch version
(``torch.__version__ >= "1.12"``, ``int(torch.__version__.split(".")[1])``) run, and a printout still says ember."""
_ember_version = '0.1.0'   # ember's own release (pyproject.toml's version)
_pytorch_api = '2.13.0'    # the PyTorch release whose API and results ember matches
_torchvision_api = '0.28.0'  # the torchvision release built for that PyTorch

__version__ = f'{_pytorch_api}+ember{_ember_version}'   # a plain str here, as PyTorch's; torch.__version__ is the
#                                                      TorchVersion that compares as a version
cuda = None
hip = None
xpu = None
debug = False
git_version = 'ember'
