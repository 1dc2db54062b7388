"""DLPack: ember tensors go to NumPy and PyTorch and come back from them without copying."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'int64', 'int32', 'uint8', 'bool'])
def test_numpy_and_torch_share_memory_with_ember(dtype):
    base = np.arange(6).reshape(2, 3).astype(dtype)
    e = ember.tensor(base)
    a = np.from_dlpack(e)
    t = torch.from_dlpack(e)
    assert a.dtype == base.dtype and repr(t.dtype).replace('torch.', '') == dtype and t.shape == (2, 3)
    e[0, 0] = 1
    assert a[0, 0] == 1 and t[0, 0].item() == 1
    back = ember.from_dlpack(torch.from_dlpack(a))
    t[1, 2] = 0
    assert back[1, 2].item() == 0 and e[1, 2].item() == 0
    assert repr(back.dtype) == repr(e.dtype)


def test_views_capsules_and_device():
    e = ember.arange(12.0).reshape(3, 4)
    t = torch.from_dlpack(e.t())
    assert t.stride() == e.t().stride() and t.tolist() == e.t().tolist()
    assert e.__dlpack_device__() == torch.zeros(1).__dlpack_device__() == (1, 0)
    assert repr(e.__dlpack_device__()[0]) == repr(torch.zeros(1).__dlpack_device__()[0])
    tt = torch.arange(4)
    from_capsule = ember.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(tt))
    tt[0] = 7
    assert from_capsule.tolist() == [7, 1, 2, 3] and repr(from_capsule.dtype) == 'torch.int64'
    to_torch = torch.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(e))
    e[0, 0] = -1
    assert to_torch[0, 0].item() == -1
    assert ember.from_dlpack(np.ones(2, np.float16)).tolist() == [1.0, 1.0]


def test_tensors_requiring_grad_are_refused_as_in_pytorch():
    for lib in (ember, torch):
        with pytest.raises(BufferError, match=r"Can't export tensors that require gradient, use tensor.detach\(\)"):
            np.from_dlpack(lib.ones(2, requires_grad=True))
    assert np.from_dlpack(ember.ones(2, requires_grad=True).detach()).tolist() == [1.0, 1.0]
    for lib in (ember, torch):   # uint16 is a (shell) dtype in PyTorch 2.3+; an array of it is taken as is
        t = lib.from_dlpack(np.array([1, 65535], np.uint16))
        assert str(t.dtype) == 'torch.uint16' and t.tolist() == [1, 65535]
