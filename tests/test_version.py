"""``torch.__version__`` (issue 12): the PyTorch API release with ember's version as the local label, a str that
compares by version order exactly as PyTorch's ``TorchVersion`` does, so version checks in real scripts run."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.torch_version import TorchVersion as TorchTV

import ember
from ember.torch_version import TorchVersion

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ['2.13.0', '2.13.0+cpu', '2.13.0+ember0.1.0', '2.13', '2.4', '1.12', '1.12.1', '2.13.0a0', '2.13.0rc1',
            '2.13.0.dev20240101', '2.13.0.post1', '2.14', 'parrot', '2.13.0+cu121', '0.1.0', '2.13.0+ember.0.1.1',
            '2.13.0+1', '1!1.0', '2.13.0b2.post3.dev4', 'v2.13', '2.13.0-1', (2, 13), (1, 12), (2, 13, 0), (2, 14),
            [2, 13]]
OPS = ['__gt__', '__lt__', '__eq__', '__ge__', '__le__', '__ne__']


def _outcome(version_cls, a, op, b):
    try:
        return getattr(version_cls(a), op)(b)
    except Exception as e:  # noqa: BLE001 (the exception type is the outcome compared)
        return type(e).__name__


@pytest.mark.parametrize('a', [v for v in VERSIONS if isinstance(v, str)])
def test_comparisons_match_pytorch(a):
    got = {(op, str(b)): _outcome(TorchVersion, a, op, b) for b in VERSIONS for op in OPS}
    want = {(op, str(b)): _outcome(TorchTV, a, op, b) for b in VERSIONS for op in OPS}
    assert got == want


def test_version_names_the_pytorch_api_and_ember():
    assert ember.__version__ == '2.13.0+ember0.1.0' and isinstance(ember.__version__, str)
    assert ember.__version__.split('+')[0] == torch.__version__.split('+')[0]
    assert ember.version.__version__ == ember.__version__ and ember.torch_version.__version__ == ember.__version__
    assert ember.__version__ >= '1.12' and ember.__version__ > (2, 4) and not ember.__version__ < '2.13'
    assert hash(ember.__version__) == hash('2.13.0+ember0.1.0')
    assert ember.vision.__version__ == '0.28.0+ember0.1.0'


def test_ember_release_is_the_package_version():
    declared = re.search(r'^version = "(.+)"$', (ROOT / 'pyproject.toml').read_text(), re.M).group(1)
    assert ember.version._ember_version == declared


def test_version_checks_of_real_scripts_run(tmp_path):
    # the checks mrdbourke's course and rasbt's notebooks start with
    script = tmp_path / 'check.py'
    script.write_text(
        'import torch, torchvision\n'
        'assert int(torch.__version__.split(".")[1]) >= 12, "torch version should be 1.12+"\n'
        'assert int(torchvision.__version__.split(".")[1]) >= 13, "torchvision version should be 0.13+"\n'
        'major, minor = map(int, torch.__version__.split(".")[:2])\n'
        'assert (major, minor) >= (2, 4) and torch.__version__ >= "2.4"\n'
        'from torch.torch_version import TorchVersion\n'
        'print(isinstance(torch.__version__, TorchVersion), torch.__version__)\n')
    done = subprocess.run([sys.executable, '-m', 'ember', 'run', str(script)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'True 2.13.0+ember0.1.0\n'
