"""import ember changes nothing in the user's process (issue 10): glibc's malloc settings stay as they
were unless asked for (EMBER_KEEP_FREED_MEMORY=1 or backend.keep_freed_memory()), and ember's products
put the BLAS thread count back, so the user's own NumPy products keep theirs."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from ember import backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FREED = '''
import numpy as np
import ember
x = ember.randn(8, 8)
(x @ x).sum()
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096
big = np.ones(1 << 21); del big                  # 16 MiB: raises glibc's dynamic mmap threshold
arrays = [np.ones(1 << 20) for _ in range(10)]    # 80 MiB from the heap
before = rss()
del arrays
print((before - rss()) >> 20)
'''


def _returned_mib(env_extra):
    env = {k: v for k, v in os.environ.items() if k != 'EMBER_KEEP_FREED_MEMORY'}
    env.update(PYTHONPATH=ROOT, **env_extra)
    out = subprocess.run([sys.executable, '-c', _FREED], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc malloc and /proc are Linux-only')
def test_import_leaves_malloc_alone_and_keeping_memory_is_opt_in():
    assert _returned_mib({}) >= 40            # the user's freed arrays go back to the OS
    assert _returned_mib({'EMBER_KEEP_FREED_MEMORY': '1'}) < 40


def _openblas():
    setter, getter = backend._find_openblas()
    if setter is None:
        pytest.skip('NumPy is not linked against OpenBLAS here: no thread count to check')
    return setter, getter


def test_ember_products_restore_the_users_blas_threads():
    setter, getter = _openblas()
    before = getter()
    try:
        setter(2)
        x = ember.randn(4, 3, 8, 8, requires_grad=True)
        conv = ember.nn.Conv2d(3, 4, 3)
        lin = ember.nn.Linear(4 * 6 * 6, 5)
        y = lin(conv(x).flatten(1))
        (y @ ember.randn(5, 5)).sum().backward()
        assert getter() == 2
    finally:
        setter(before)


def test_set_num_threads_steers_ember_only():
    setter, getter = _openblas()
    before, many = getter(), ember.get_num_threads()
    try:
        setter(2)
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1 and getter() == 2
        a = ember.randn(256, 256)
        (a @ a).sum()
        assert getter() == 2
    finally:
        setter(before)
        ember.set_num_threads(many)


@pytest.mark.parametrize('bad', [0, -1, 1.5, True])
def test_set_num_threads_refuses_what_pytorch_refuses(bad):
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as e:
            lib.set_num_threads(bad)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


_QUIET_TEST = """
import numpy as np
import ember


def test_ops_make_inf_and_nan_silently():
    x = ember.tensor([1.0, 0.0, -1.0])
    (x / 0, x.log(), (x * 1e38) * 1e38, x.sqrt(), ember.tensor([1e30]) ** 40)


def test_users_numpy_still_warns():
    np.log(np.zeros(1))
"""


def test_float_warnings_from_ember_do_not_reach_pytest(tmp_path):
    """ember's ops make inf and nan without a NumPy RuntimeWarning, as PyTorch's do, also under pytest, which
    imports test modules (and so ember) inside ``catch_warnings``; the user's own NumPy code still warns."""
    (tmp_path / 'test_quiet.py').write_text(_QUIET_TEST)
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'no:xdist',
                        str(tmp_path / 'test_quiet.py')], env=env, capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert '2 passed' in r.stdout, r.stdout + r.stderr
    assert os.path.join(ROOT, 'ember') not in r.stdout, r.stdout
    assert 'divide by zero encountered in log' in r.stdout, r.stdout
