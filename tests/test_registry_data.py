"""The data entries of the registry (tests/registry_data.py) against PyTorch 2.13 and torchvision 0.28: samplers'
index sequences under one seed bit for bit, datasets, collation and DataLoader batches, torchvision's transforms
pixel for pixel with their reprs, its datasets on tiny files in the real formats, make_grid and save_image, and
the submodules' names. A check left out of an entry (a gap) must still fail."""
import collections
import importlib
import importlib.util
import os
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import fresh_storage_warning, import_torchvision
from registry_data import ENTRIES
from test_registry_training import judge

tv = import_torchvision()
Image = pytest.importorskip('PIL.Image')

# PyTorch's namespaces the entries cover: ember's (under ``ember.``)
ROOTS = {'torch.utils.data': 'utils.data', 'torchvision.datasets': 'vision.datasets',
         'torchvision.transforms': 'vision.transforms', 'torchvision.utils': 'vision.utils'}


class Lib:
    """One library as the entries see it (see tests/registry_data.py)."""
    def __init__(self, name, tmp):
        self.name, self.tmp = name, str(tmp)
        os.makedirs(self.tmp, exist_ok=True)
        if name == 'torch':
            self.torch, self.data, vision = torch, torch.utils.data, tv
        else:
            self.torch, self.data, vision = ember, ember.utils.data, ember.vision
        self.vision, self.T, self.datasets, self.vutils = vision, vision.transforms, vision.datasets, vision.utils
        self.F = vision.transforms.functional

    def mod(self, name):
        """'data.sampler' -> torch.utils.data.sampler (or ember's); 'T.functional' -> transforms.functional."""
        head, _, rest = name.partition('.')
        base = getattr(self, head)
        return importlib.import_module(f'{base.__name__}.{rest}') if rest else base


def same(e, t, what, atol, u8_atol=0):
    """ember's result ``e`` equals PyTorch's ``t``: tensors by dtype/shape/value (float ones within ``atol``,
    uint8 ones within ``u8_atol``), PIL images pixel for pixel, NumPy arrays by dtype and value, containers by type
    and item, the rest by type and ==."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f'{what}: {type(e).__name__} {e!r:.100}, PyTorch a Tensor'
        assert str(e.dtype) == str(t.dtype).replace('torch.', 'ember.') or repr(e.dtype) == repr(t.dtype), \
            f'{what}: dtype {e.dtype}, PyTorch {t.dtype}'
        assert tuple(e.shape) == tuple(t.shape), f'{what}: shape {tuple(e.shape)}, PyTorch {tuple(t.shape)}'
        ev, tv_ = e.detach().numpy(), t.detach().numpy()
        if atol and tv_.dtype.kind == 'f':
            np.testing.assert_allclose(ev, tv_, atol=atol, rtol=0, err_msg=what)
        elif u8_atol and tv_.dtype == np.uint8:
            assert np.abs(ev.astype(int) - tv_).max(initial=0) <= u8_atol, f'{what}: uint8 values differ'
        else:
            np.testing.assert_array_equal(ev, tv_, err_msg=what)
    elif isinstance(t, Image.Image):
        assert isinstance(e, Image.Image), f'{what}: {type(e).__name__}, PyTorch a PIL image'
        assert (e.mode, e.size) == (t.mode, t.size), f'{what}: {e.mode} {e.size}, PyTorch {t.mode} {t.size}'
        np.testing.assert_array_equal(np.asarray(e), np.asarray(t), err_msg=what)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype, f'{what}: {e!r:.100}, PyTorch {t!r:.100}'
        np.testing.assert_array_equal(e, t, err_msg=what)
    elif isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), f'{what}: {e!r:.200}, PyTorch {t!r:.200}'
        for k in t:
            same(e[k], t[k], f'{what}[{k!r}]', atol, u8_atol)
    elif isinstance(t, (list, tuple)):
        assert type(e).__name__ == type(t).__name__ and len(e) == len(t), \
            f'{what}: {type(e).__name__} {e!r:.200}, PyTorch {type(t).__name__} {t!r:.200}'
        for i, (a, b) in enumerate(zip(e, t)):
            same(a, b, f'{what}[{i}]', atol, u8_atol)
    else:
        assert type(e) is type(t) and e == t, f'{what}: {e!r:.300} ({type(e).__name__}), PyTorch {t!r:.300}'


def _attempt(entry, case, lib):
    """(result or exception, warnings) of ``case.fn(lib)`` right after ``manual_seed(entry.seed)``, with the
    once-a-process storage warning fresh."""
    fresh_storage_warning()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        lib.torch.manual_seed(entry.seed)
        try:
            return case.fn(lib), [f'{w.category.__name__}: {w.message}' for w in caught]
        except Exception as err:
            return err, [f'{w.category.__name__}: {w.message}' for w in caught]


CASES = [(e, c) for e in ENTRIES for c in e.cases]


@pytest.mark.parametrize('entry,case', CASES, ids=[f'{e.id}-{c.desc}' for e, c in CASES])
def test_data_call(entry, case, tmp_path):
    """The values (bit for bit unless the entry gives atol), PyTorch's warnings, or PyTorch's exception type."""
    t, tw = _attempt(entry, case, Lib('torch', tmp_path / 'torch'))
    e, ew = _attempt(entry, case, Lib('ember', tmp_path / 'ember'))
    judge(entry, case, t, tw, e, ew, lambda: same(e, t, 'result', entry.atol, entry.u8_atol))


def test_entries_are_pytorch_api():
    """Every name the entries claim is public in PyTorch (or torchvision): an attribute or a submodule."""
    missing = []
    for entry in ENTRIES:
        for full in entry.names():
            mod, _, name = full.rpartition('.')
            m = importlib.import_module(mod)
            if not hasattr(m, name) and importlib.util.find_spec(full) is None:
                missing.append(full)
    assert not missing, f'not PyTorch API: {missing}'


@pytest.mark.parametrize('torch_ns', sorted(ROOTS))
def test_every_name_has_an_entry(torch_ns):
    """Every name ember provides in these namespaces (as SUPPORTED.md lists them) has an entry."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
    try:
        import supported
    finally:
        sys.path.pop(0)
    ember_ns = 'ember.' + ROOTS[torch_ns]
    have = {full.rpartition('.')[2] for e in ENTRIES for full in e.names() if full.rpartition('.')[0] == torch_ns}
    missing = [n for n in supported.api_names(torch_ns, ember_ns) if n not in have]
    assert not missing, f'{torch_ns} names without a registry entry: {missing}'


def test_namedtuple_collate_type():
    """default_collate keeps a namedtuple's type (the registry compares its fields)."""
    P = collections.namedtuple('P', 'x y')
    for lib in (torch, ember):
        out = lib.utils.data.default_collate([P(1, 2), P(3, 4)])
        assert type(out) is P
