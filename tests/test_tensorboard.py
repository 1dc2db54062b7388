"""torch.utils.tensorboard: SummaryWriter writes the same event records as PyTorch's (read back with
TensorBoard's own loader and compared byte for byte, wall times aside)."""
import glob
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.utils.tensorboard
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

import ember
import ember.utils.tensorboard


def _log(T, log_dir):
    SummaryWriter = (ember.utils.tensorboard if T is ember else torch.utils.tensorboard).SummaryWriter
    T.manual_seed(0)
    with SummaryWriter(log_dir) as w:
        for i in range(5):
            w.add_scalar('Loss/train', 1.0 / (i + 1), i, walltime=100.0 + i)
        w.add_scalar('new', T.tensor(2.5), 3, walltime=1.0, new_style=True)
        w.add_scalar('dbl', np.float64(1 / 3), 4, walltime=1.0, new_style=True, double_precision=True)
        w.add_scalars('run', {'a': 1.0, 'b': T.tensor(2.0)}, 1, walltime=5.0)
        w.add_histogram('h', T.randn(1000), 2, walltime=7.0)
        w.add_histogram('h2', np.arange(100.0), 2, bins='auto', walltime=7.0, max_bins=5)
        w.add_text('note', 'hello *world*', 0, walltime=8.0)
        w.add_image('img', T.rand(3, 8, 10), 0, walltime=9.0)
        w.add_image('hw', (T.rand(6, 7) * 255).to(T.uint8), 0, walltime=9.0, dataformats='HW')
        w.add_images('imgs', T.rand(10, 1, 4, 5), 0, walltime=9.0)


def _events(root):
    out = {}
    for path in sorted(glob.glob(f'{root}/**/events.*', recursive=True)):
        run = path[len(root):].rsplit('/', 1)[0]
        out[run] = [e.SerializeToString() for e in EventFileLoader(path).Load() if not e.HasField('file_version')]
    return out


def test_summary_writer_writes_pytorchs_events(tmp_path):
    _log(ember, str(tmp_path / 'ember'))
    _log(torch, str(tmp_path / 'torch'))
    mine, ref = _events(str(tmp_path / 'ember')), _events(str(tmp_path / 'torch'))
    assert sorted(mine) == sorted(ref) == ['', '/run_a', '/run_b']
    for run in ref:
        assert mine[run] == ref[run], run


def test_summary_writer_defaults_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = ember.utils.tensorboard.SummaryWriter(comment='_lr0.1')
    assert w.get_logdir().startswith('runs/') and w.get_logdir().endswith('_lr0.1')
    for T in (ember, torch):
        writer = (ember.utils.tensorboard if T is ember else torch.utils.tensorboard).SummaryWriter(str(tmp_path / 'e'))
        with pytest.raises(AssertionError, match='Tensor should contain one element'):
            writer.add_scalar('x', T.ones(2))
        with pytest.raises(ValueError, match='The input has no element'):
            writer.add_histogram('x', T.ones(0))
        writer.close()
        writer.close()
    with pytest.raises(NotImplementedError, match='add_graph is not supported by ember yet'):
        w.add_graph(ember.nn.Linear(2, 2), ember.ones(1, 2))
    w.close()


def test_without_tensorboard_import_fails_as_pytorchs():
    """Without the tensorboard package the import raises ModuleNotFoundError naming it, as PyTorch's."""
    code = ('import sys; sys.modules["tensorboard"] = None\n'
            'try:\n    import ember.utils.tensorboard\nexcept ModuleNotFoundError as e:\n    print(type(e).__name__, e)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.startswith('ModuleNotFoundError') and 'tensorboard' in out


def test_module_names_as_pytorchs():
    """``torch.utils.tensorboard`` also re-exports tensorboard's RecordWriter (its ``__all__`` names three)."""
    assert ember.utils.tensorboard.__all__ == torch.utils.tensorboard.__all__
    assert ember.utils.tensorboard.RecordWriter is torch.utils.tensorboard.RecordWriter
