"""Jupyter: the "Python 3 (ember as torch)" kernel runs a course notebook as ``ember run`` does, and
``%load_ext ember`` aliases torch inside a running kernel (figures inline, tracebacks end at the cell)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ember import cli

nbformat = pytest.importorskip('nbformat', reason="the 'jupyter' extra (ipykernel, nbclient) is not installed")
nbclient = pytest.importorskip('nbclient', reason="the 'jupyter' extra (ipykernel, nbclient) is not installed")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / 'examples' / 'seeds' / 'seed001_intro_autograd.ipynb'


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


def test_kernel_install_and_seed_notebook_matches_ember_run(jupyter_env, capsys):
    assert cli.main(['kernel']) == 2 and cli.main(['kernel', 'frob']) == 2
    assert cli.main(['kernel', 'install', '--bad']) == 2 and cli.main(['kernel', '--help']) == 0
    capsys.readouterr()
    assert cli.main(['kernel', 'install', '--prefix', str(jupyter_env)]) == 0
    assert "Installed kernel 'ember' (Python 3 (ember as torch))" in capsys.readouterr().out
    spec = json.loads((jupyter_env / 'share' / 'jupyter' / 'kernels' / 'ember' / 'kernel.json').read_text())
    assert spec['display_name'] == 'Python 3 (ember as torch)' and '--ext=ember' in spec['argv']
    nb = nbformat.read(str(SEED), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('import torch\nprint(torch.__name__)'))
    kernel_out = printed(execute(nb, 'ember', jupyter_env))
    run = subprocess.run([sys.executable, '-m', 'ember', 'run', str(SEED)], capture_output=True, text=True,
                         cwd=jupyter_env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert kernel_out == run.stdout + 'ember\n'


def test_load_ext_in_a_plain_kernel(jupyter_env):
    cells = ['%load_ext ember', 'import torch\nimport torch.nn as nn\nprint(torch.__name__, nn.Linear(2, 1))',
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
