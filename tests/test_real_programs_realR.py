"""Real PyTorch programs under the alias against PyTorch (session 48, lane realR): pytorch/examples' remaining
scripts, udlbook's and Raschka's notebooks and the PyTorch forum's beginner patterns, on tiny stand-in data; each
defect found is reduced here to the lines that found it (the programs themselves are not needed)."""
import numpy as np
import pytest

from helpers import run_both


# -- A flipped NumPy image (``img[:, :, ::-1]``, ``np.flip``: the forum's BGR-to-RGB pattern) was taken silently:
# PyTorch refuses an array with a negative stride in every constructor that reads its memory, and in default_collate.
@pytest.mark.parametrize('make', ['tensor', 'as_tensor', 'from_numpy', 'asarray', 'Tensor', 'FloatTensor',
                                  'collate', 'list_of_arrays', 'one_element', 'empty'])
def test_negative_strides_refused(make):
    def fn(lib):
        a = np.arange(6.0).reshape(2, 3)[:, ::-1]
        if make == 'collate':
            return lib.utils.data.default_collate([a, a])
        if make == 'list_of_arrays':   # read element by element: accepted
            return lib.tensor(np.stack([a, a]).tolist()), lib.tensor([a[0, 0], a[1, 2]])
        if make == 'one_element':
            return lib.tensor(np.zeros(1)[::-1])
        if make == 'empty':            # NumPy gives an empty flip stride 0
            return lib.tensor(np.zeros(0)[::-1])
        return getattr(lib, make)(a)
    run_both(fn, message=True)


# -- ``x.softmax()`` without a dim (a forum pattern, copied from F.softmax's deprecated implicit dim) was taken with
# F.softmax's warning: torch.softmax, Tensor.softmax/log_softmax and torch.special's require it.
@pytest.mark.parametrize('call', ['lib.softmax(x)', 'x.softmax()', 'x.log_softmax()', 'lib.log_softmax(x, None)',
                                  'x.softmax(None)', 'lib.special.softmax(x)', 'lib.special.log_softmax(x, None)',
                                  'x.softmax(axis=1)', 'lib.softmax(x, 0, lib.float64)'])
def test_softmax_requires_dim(call):
    def fn(lib):
        x = lib.arange(6.0).reshape(2, 3)
        return eval(call, {'lib': lib, 'x': x})
    run_both(fn, message=True)


def test_functional_softmax_implicit_dim_still_warns():
    import warnings

    def fn(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            out = lib.nn.functional.softmax(lib.arange(6.0).reshape(2, 3)), lib.nn.Softmax()(lib.arange(3.0))
        return out, [str(m.message) for m in w]
    run_both(fn)
