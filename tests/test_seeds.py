"""The five course notebooks run unchanged on ember and print what PyTorch prints.

Each seed script runs twice in fresh processes, under ``ember run`` and under plain ``python`` with the
real PyTorch, with NumPy's global RNG and torch's default generator seeded the same way; stdout is
compared line by line, random initial weights and ``torch.rand`` data included (ember draws PyTorch's
streams). Full-precision
float32 values (``loss.item()``) are compared to 1e-5 relative: ember sums in PyTorch's order, but a
matrix product's accumulation order inside BLAS differs from PyTorch's in the last bit."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, 'examples', 'seeds')
NUM = re.compile(r'-?\d+(\.\d*)?(e[-+]?\d+)?')
ADDR = re.compile(r'0x[0-9a-f]+')



def _env(tmp_path, framework='ember'):
    """An environment whose sitecustomize seeds NumPy and ``framework``'s default generator with 0."""
    site = tmp_path / f'site_{framework}'
    site.mkdir(exist_ok=True)
    (site / 'sitecustomize.py').write_text(f'import numpy\nnumpy.random.seed(0)\nimport {framework}\n'
                                           f'{framework}.manual_seed(0)\n')
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONPATH=f'{site}{os.pathsep}{ROOT}', PYTHONHASHSEED='0')
    return env


def _run(cmd, cwd, env):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f'{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return [ADDR.sub('0x?', line) for line in r.stdout.splitlines()]


def _torch_part(script, tmp_path):
    """The part of a seed that PyTorch alone can run here (torchvision cannot be installed beside it)."""
    with open(script) as f:
        text = f.read()
    cut = text.find('import torchvision')
    if cut < 0:
        return script
    part = tmp_path / 'torch_part.py'
    part.write_text(text[:text.rfind('# %%', 0, cut)])
    return str(part)


def _prepare_cifar(tmp_path):
    fashion = '/usr/share/datasets/fashion-mnist'
    if not os.path.isdir(fashion):
        pytest.skip('needs Debian\'s dataset-fashion-mnist (installed by .ci/install-data.sh)')
    subprocess.run([sys.executable, os.path.join(ROOT, 'examples', 'prepare_cifar10.py'), '--out',
                    str(tmp_path / 'data'), '--train', '800', '--test', '200'], check=True, capture_output=True)


def _ember_run(name):
    """The ``ember run`` command for a seed: seed002 runs through the example that puts its offline stand-in
    for CIFAR-10 (Fashion-MNIST images in CIFAR-10 layout) in place of ``CIFAR10``."""
    if name.startswith('seed002'):
        return [sys.executable, os.path.join(ROOT, 'examples', 'prepare_cifar10.py'), 'run']
    return [sys.executable, '-m', 'ember', 'run']


def _mask(line):
    """The line's structure: numbers masked, spacing (which depends on signs and widths) removed."""
    return re.sub(r'\s+', '', NUM.sub('#', line))


def _close(ours, theirs):
    """Lines equal, allowing full-precision floats (8+ significant digits) to differ by 1e-5 relative."""
    if ours == theirs:
        return True
    if _mask(ours) != _mask(theirs):
        return False
    a = [m.group(0) for m in NUM.finditer(ours)]
    b = [m.group(0) for m in NUM.finditer(theirs)]
    for x, y in zip(a, b):
        if x != y and (len(y.replace('-', '').replace('.', '')) < 8 or
                       abs(float(x) - float(y)) > 1e-5 * max(abs(float(y)), 1e-30)):
            return False
    return True


@pytest.mark.parametrize('name', ['seed000_autograd_first_models', 'seed001_intro_autograd',
                                  'seed002_autodiff_deep_learning', 'seed003_autograd_training_loop',
                                  'seed004_linear_regression'])
def test_seed_matches_pytorch(name, tmp_path):
    if name.startswith('seed002'):
        _prepare_cifar(tmp_path)
    script = os.path.join(SEEDS, name + '.py')
    ours = _run([*_ember_run(name), '--figures', str(tmp_path), script], tmp_path, _env(tmp_path, 'ember'))
    theirs = _run([sys.executable, _torch_part(script, tmp_path)], tmp_path, _env(tmp_path, 'torch'))
    if name.startswith('seed002'):
        rest = ours[len(theirs):]
        assert 'Finished Training' in rest and any(x.startswith('GroundTruth:') for x in rest)
        assert any(x.startswith('Predicted:') for x in rest)
        ours = ours[:len(theirs)]
    assert len(ours) == len(theirs), '\n'.join(ours) + '\n----\n' + '\n'.join(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert _close(a, b), f'line {i + 1}: ember printed {a!r}, PyTorch {b!r}'


@pytest.mark.parametrize('name', ['seed000_autograd_first_models', 'seed001_intro_autograd',
                                  'seed002_autodiff_deep_learning', 'seed003_autograd_training_loop',
                                  'seed004_linear_regression'])
def test_notebook_runs_and_matches_script(name, tmp_path):
    """The .ipynb runs end to end under ``ember run`` and its code cells are exactly the .py script's."""
    if name.startswith('seed002'):
        _prepare_cifar(tmp_path)
    with open(os.path.join(SEEDS, name + '.ipynb')) as f:
        nb = json.load(f)
    cells = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
    with open(os.path.join(SEEDS, name + '.py')) as f:
        py = f.read().split('# %%\n')[1:]
    uncomment = [re.sub(r'^(\s*)# ([%!])', r'\1\2', p.rstrip('\n'), flags=re.M) for p in py]
    assert uncomment == cells
    env = _env(tmp_path)
    r = subprocess.run([*_ember_run(name), '--figures', str(tmp_path), os.path.join(SEEDS, name + '.ipynb')],
                       cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
