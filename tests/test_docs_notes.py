"""Examples of PyTorch's docs/source/notes (broadcasting.md, serialization.md, autograd.md) against PyTorch 2.13,
where ember differed: the backcompat switches of the broadcasting note."""
import warnings

import numpy as np
import torch

import ember


def _backcompat(lib):
    b = lib.utils.backcompat
    before = (b.broadcast_warning.enabled, b.keepdim_warning.get_enabled())
    b.broadcast_warning.enabled = True
    b.keepdim_warning.set_enabled(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            r = lib.add(lib.ones(4, 1), lib.ones(4))
            s = lib.ones(4, 3).sum(0)
        return before, (b.broadcast_warning.get_enabled(), b.keepdim_warning.enabled), len(caught), r.numpy(), \
            s.numpy()
    finally:
        b.broadcast_warning.enabled, b.keepdim_warning.enabled = before


def test_backcompat_switches_hold_a_flag_and_warn_for_nothing():
    """``torch.utils.backcompat.broadcast_warning.enabled = True`` (notes/broadcasting.md): PyTorch 2.13 keeps the
    switches but no op warns any longer; ember had no module."""
    e, t = _backcompat(ember), _backcompat(torch)
    assert e[:3] == t[:3] == ((False, False), (True, True), 0)
    np.testing.assert_array_equal(e[3], t[3])
    np.testing.assert_array_equal(e[4], t[4])
