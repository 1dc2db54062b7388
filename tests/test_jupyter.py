"""Jupyter: the "Python 3 (ember as torch)" kernel runs a course notebook as ``ember run`` does, and
``%load_ext ember`` aliases torch inside a running kernel (figures inline, tracebacks end at the cell)."""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ember import cli

nbformat = pytest.importorskip('nbformat', reason="the 'jupyter' extra (ipykernel, nbclient) is not installed")
nbclient = pytest.importorskip('nbclient', reason="the 'jupyter' extra (ipykernel, nbclient) is not installed")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / 'examples' / 'seeds'
NAMES = ['seed000_autograd_first_models', 'seed001_intro_autograd', 'seed002_autodiff_deep_learning',
         'seed003_autograd_training_loop', 'seed004_linear_regression']
FASHION = '/usr/share/datasets/fashion-mnist'


def execute(nb, kernel_name, cwd):
    nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=120,
                            resources={'metadata': {'path': str(cwd)}}).execute()
    return nb


def printed(nb):
    """What the notebook's cells printed and displayed as text, in order (as ``ember run`` prints it)."""
    out = []
    for cell in nb.cells:
        for o in cell.get('outputs', []):
            if o.output_type == 'stream' and o.name == 'stdout':
                out.append(o.text)
            elif o.output_type == 'execute_result':
                out.append(o.data['text/plain'] + '\n')
    return ''.join(out)


@pytest.fixture
def jupyter_env(tmp_path, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    monkeypatch.setenv('JUPYTER_PATH', str(tmp_path / 'share' / 'jupyter'))
    return tmp_path


def test_kernel_install(jupyter_env, capsys):
    assert cli.main(['kernel']) == 2 and cli.main(['kernel', 'frob']) == 2
    assert cli.main(['kernel', 'install', '--bad']) == 2 and cli.main(['kernel', '--help']) == 0
    capsys.readouterr()
    assert cli.main(['kernel', 'install', '--prefix', str(jupyter_env)]) == 0
    assert "Installed kernel 'ember' (Python 3 (ember as torch))" in capsys.readouterr().out
    spec = json.loads((jupyter_env / 'share' / 'jupyter' / 'kernels' / 'ember' / 'kernel.json').read_text())
    assert spec['display_name'] == 'Python 3 (ember as torch)' and '--ext=ember' in spec['argv']


def _seeded_site(tmp_path, stand_in):
    """A sitecustomize (for the kernel and ``ember run`` alike) seeding NumPy and ember with 0; with
    ``stand_in``, CIFAR10 reads the Fashion-MNIST stand-in that examples/prepare_cifar10.py prepares."""
    site = tmp_path / 'site'
    site.mkdir()
    patch = (f'import sys\nsys.path.insert(0, {str(ROOT / "examples")!r})\nfrom prepare_cifar10 import '
             'stand_in_class\nfrom ember.vision import datasets\ndatasets.CIFAR10 = stand_in_class()\n')
    (site / 'sitecustomize.py').write_text('import numpy\nnumpy.random.seed(0)\nimport ember\nember.manual_seed(0)\n'
                                           + (patch if stand_in else ''))
    return site


@pytest.mark.parametrize('name', NAMES)
def test_seed_notebook_in_the_kernel_prints_what_ember_run_prints(name, jupyter_env, monkeypatch, capsys):
    """Each course notebook, executed by nbclient on the installed ember kernel, prints what ``ember run``
    prints for it (both seeded alike; seed002 reads a Fashion-MNIST stand-in for CIFAR-10)."""
    cifar = name.startswith('seed002')
    if cifar:
        if not os.path.isdir(FASHION):
            pytest.skip("needs Debian's dataset-fashion-mnist (installed by .ci/install-data.sh)")
        subprocess.run([sys.executable, str(ROOT / 'examples' / 'prepare_cifar10.py'), '--out',
                        str(jupyter_env / 'data'), '--train', '200', '--test', '100'], check=True, capture_output=True)
    site = _seeded_site(jupyter_env, cifar)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(site), str(ROOT), os.environ.get('PYTHONPATH', '')]))
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    assert cli.main(['kernel', 'install', '--prefix', str(jupyter_env)]) == 0
    capsys.readouterr()
    path = SEEDS / (name + '.ipynb')
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('import torch\nprint(torch.__spec__.name)'))
    kernel_out = printed(execute(nb, 'ember', jupyter_env))
    run = subprocess.run([sys.executable, '-m', 'ember', 'run', '--figures', str(jupyter_env), str(path)],
                         capture_output=True, text=True, cwd=jupyter_env, timeout=300)
    assert run.returncode == 0, run.stderr
    address = re.compile('0x[0-9a-f]+')   # reprs of plot objects name their addresses
    assert address.sub('0x?', kernel_out) == address.sub('0x?', run.stdout) + 'ember\n'


def test_load_ext_in_a_plain_kernel(jupyter_env):
    cells = ['%load_ext ember', 'import torch\nimport torch.nn as nn\nprint(torch.__spec__.name, nn.Linear(2, 1))',
             'torch.zeros(2)', 'torch.no_such_name', 'import matplotlib.pyplot as plt\nplt.plot([1, 2]);',
             '%unload_ext ember\nimport torch\nprint(torch.__name__)']
    has_mpl = importlib.util.find_spec('matplotlib') is not None
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    client = nbclient.NotebookClient(nb, kernel_name='python3', timeout=120, allow_errors=True,
                                     resources={'metadata': {'path': str(jupyter_env)}})
    client.execute()
    assert nb.cells[1].outputs[0].text == 'ember Linear(in_features=2, out_features=1, bias=True)\n'
    assert nb.cells[2].outputs[0].data['text/plain'] == 'tensor([0., 0.])'
    error = nb.cells[3].outputs[0]
    assert error.ename == 'AttributeError' and error.evalue.startswith('torch.no_such_name is not supported by ember')
    assert not any('aliasing.py' in line for line in error.traceback), error.traceback
    assert nb.cells[5].outputs[0].text == 'torch\n'
    if has_mpl:
        assert any('image/png' in o.get('data', {}) for o in nb.cells[4].outputs)
