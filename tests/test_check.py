"""``ember run --check``: every torch name a script or notebook uses that ember lacks, in one run,
without running the code."""
import json
from pathlib import Path

import pytest

from ember import cli

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = '''import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, NoSuchLoader
import torch.onnx
import torch.no_such_module
from torch.nn.parallel import DistributedDataParallel as DDP
raise SystemExit("the check must not run the script")
x = torch.zeros(3)
y = F.relu(x) + F.no_such_function(x)
layer = nn.NoSuchLayer(3)
torch.onnx.export(nn.Linear(1, 1), x, "m.onnx")
torch.no_such_namespace.thing(x)
torch.no_such_namespace.other(x)
torch.backends.cudnn.benchmark = True
loader = DataLoader([1, 2])
'''


def run_check(capsys, path):
    status = cli.main(['run', '--check', str(path)])
    return status, capsys.readouterr().out


def test_check_lists_every_missing_name_without_running(tmp_path, capsys):
    (tmp_path / 'prog.py').write_text(SCRIPT)
    status, out = run_check(capsys, tmp_path / 'prog.py')
    lines = out.splitlines()
    assert status == 1 and lines[0].endswith('prog.py: 6 torch name(s) ember lacks (19 checked):'), out
    assert [line.split()[0] for line in lines[1:]] == [
        'torch.utils.data.NoSuchLoader', 'torch.no_such_module', 'torch.nn.functional.no_such_function', 'torch.nn.NoSuchLayer', 'torch.onnx.export', 'torch.no_such_namespace']
    assert 'imports, but raises when used; first used at prog.py, line 13' in out
    assert 'torch.no_such_namespace' in out and 'line 14 (+1 more)' in out


def test_check_follows_aliases_across_notebook_cells(tmp_path, capsys):
    cells = ['%matplotlib inline\nimport torch as th\nfrom torch import nn', 'th.no_such_fn(1)\nnn.Linear(1, 1)',
             '!pip install x\nnn.NotALayer()']
    nb = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {},
          'cells': [{'cell_type': 'code', 'metadata': {}, 'outputs': [], 'execution_count': None, 'source': c}
                    for c in cells]}
    (tmp_path / 'nb.ipynb').write_text(json.dumps(nb))
    status, out = run_check(capsys, tmp_path / 'nb.ipynb')
    assert status == 1
    assert 'torch.no_such_fn' in out and 'cell 2, line 1' in out and 'torch.nn.NotALayer' in out and 'cell 3, line 2' in out


@pytest.mark.parametrize('name', sorted(p.name for p in (ROOT / 'examples' / 'seeds').glob('*.ipynb')))
def test_course_notebooks_use_only_names_ember_has(name, capsys):
    status, out = run_check(capsys, ROOT / 'examples' / 'seeds' / name)
    assert status == 0 and 'ember has every torch name it uses' in out, out


def test_check_usage_errors(capsys):
    assert cli.main(['run', '--check']) == 2 and cli.main(['run', '--check', 'a.txt']) == 2
    assert cli.main(['run', '--check', 'missing.py']) == 2
    assert "can't read 'missing.py'" in capsys.readouterr().err


def test_check_ignores_names_a_function_binds_locally(tmp_path):
    """A parameter or local variable that shadows a torch alias is not a torch name (yunjey's image
    captioning collate_fn takes a list called ``data`` next to ``import torch.utils.data as data``);
    ``global`` keeps the module's meaning."""
    from ember import _usage_check as _check
    script = tmp_path / 'collate.py'
    script.write_text('import torch.utils.data as data\nimport torch\n'
                      'def collate(data):\n    data.sort(key=len)\n    x = torch.nonexistent_fn\n'
                      'def g():\n    global data\n    return data.sort\n')
    missing, checked, errors = _check.check_sources(_check.sources_of(str(script)))
    assert sorted(name for name, _ in missing) == ['torch.nonexistent_fn', 'torch.utils.data.sort'] and not errors
