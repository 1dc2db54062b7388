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


# -- The forum's shape mistakes, each refused in PyTorch's words (ember named its own): a mask that does not broadcast
# (attention code's ``scores.masked_fill(mask == 0, -1e9)``), MultiheadAttention's key and value of different shapes,
# Unflatten's sizes, an LSTM given one tensor for (h0, c0), index_select with a float index.
@pytest.mark.parametrize('call', [
    'lib.zeros(3).masked_fill(lib.tensor([True, False]), 1.)',
    'lib.zeros(3).masked_fill_(lib.tensor([True, False]), 1.)',
    'lib.zeros(2, 3).masked_fill(lib.ones(3, 2, dtype=lib.bool), 1.)',
    'lib.masked_fill(lib.zeros(2, 3), lib.ones(3, 2, dtype=lib.bool), 1.)',
    'lib.zeros(2, 3).masked_fill_(lib.ones(2, 2, 3, dtype=lib.bool), 1.)',
    'lib.zeros(3).masked_fill(lib.ones(2, 3, dtype=lib.bool), 1.)',
    'lib.nn.MultiheadAttention(6, 3)(lib.randn(2, 3, 6), lib.randn(2, 3, 6), lib.randn(2, 3, 7))',
    'lib.nn.MultiheadAttention(6, 3)(lib.randn(2, 3, 6), lib.randn(2, 3, 6), lib.randn(4, 3, 6))',
    'lib.nn.MultiheadAttention(6, 3, kdim=4, vdim=5)(lib.randn(2, 3, 6), lib.randn(2, 3, 4), lib.randn(3, 3, 5))',
    'lib.nn.MultiheadAttention(6, 3, kdim=4, vdim=5)(lib.randn(2, 3, 6), lib.randn(2, 3, 4), lib.randn(2, 3, 5))[0]',
    'lib.nn.Unflatten(1, (2, 3))(lib.randn(4, 5))',
    'lib.randn(4, 5).unflatten(-1, (2, -1))',
    'lib.randn(4, 5).unflatten(1, (-1, -1))',
    'lib.randn(4, 5).unflatten(1, ())',
    'lib.randn(4, 5).unflatten(1, (5, 1))',
    'lib.nn.LSTM(5, 7)(lib.randn(3, 2, 5), lib.zeros(1, 2, 7))',
    'lib.nn.LSTM(5, 7)(lib.randn(3, 2, 5), lib.zeros(2, 2, 7))',
    'lib.nn.LSTM(5, 7)(lib.randn(3, 2, 5), (lib.zeros(1, 2, 7),))',
    'lib.nn.LSTM(5, 7)(lib.randn(3, 5), lib.zeros(2, 7))',
    'lib.zeros(3).index_select(0, lib.tensor([0.]))',
])
def test_forum_shape_errors(call):
    def fn(lib):
        lib.manual_seed(0)
        return eval(call, {'lib': lib})
    run_both(fn, message=True, tol=1e-5)


# -- NumPy's ``randint(0, 10, 5)`` and a ``linspace(0, 1)`` without steps (forum patterns) were refused in ember's own
# words (and ``randint(10, size=5)`` was taken): PyTorch's argument parser names the combination or the size.
@pytest.mark.parametrize('call', ['randint(0, 10, 5)', 'randint(10, 5)', 'randint(10)', 'randint(0, 10)',
                                  'randint(10, size=5)', 'randint(0, 10, (2,), 5)', 'randint(0, 10, size=5)',
                                  'randint(high=10, size=(2,)).shape', 'randint(0, 10, lib.Size([2])).shape',
                                  'randint(3, 10, [2]).shape', 'randint(10, size=[2]).shape',
                                  'randint(10, (2,), dtype=lib.int32).dtype', 'linspace(0, 1)', 'linspace(0)',
                                  'linspace()', 'logspace(0, 1)', 'linspace(0, 1, 3)', 'logspace(0, 1, 3, 2)'])
def test_randint_linspace_forms(call):
    run_both(lambda lib: eval('lib.' + call, {'lib': lib}), message=True)


# -- ``torch.tensor(300, dtype=torch.uint8)`` wrapped to 44: PyTorch checks the Python numbers it stores into a
# narrower integer dtype (an unsigned one takes them down to -max, wrapping); a NumPy array's values cast unchecked.
@pytest.mark.parametrize('call', ['tensor(300, dtype=lib.uint8)', 'tensor([1, 300], dtype=lib.int8)',
                                  'tensor(-1, dtype=lib.uint8)', 'tensor([-255, 255], dtype=lib.uint8)',
                                  'tensor(-256, dtype=lib.uint8)', 'tensor([[1, 2], [3, 256]], dtype=lib.uint8)',
                                  'tensor(1.5e3, dtype=lib.int8)', 'tensor(2**31, dtype=lib.int32)',
                                  'tensor(np.array([300]), dtype=lib.int8)', 'tensor([True, 300], dtype=lib.uint8)',
                                  'tensor(300., dtype=lib.uint8)', 'tensor(-1., dtype=lib.uint8)',
                                  'tensor([np.int64(300)], dtype=lib.uint8)', 'as_tensor([300], dtype=lib.uint8)',
                                  'tensor(float("nan"), dtype=lib.int32)', 'tensor(float("inf"), dtype=lib.int16)',
                                  'tensor([1.7, -2.9], dtype=lib.int8)', 'tensor([], dtype=lib.int8)',
                                  'tensor(70000, dtype=lib.float16)', 'tensor(-129, dtype=lib.int8)'])
def test_int_dtype_overflow(call):
    run_both(lambda lib: eval('lib.' + call, {'lib': lib, 'np': np}), message=True)


# -- cross_entropy with a soft-label target of the wrong width (``F.cross_entropy(logits, probs)`` where probs has
# another class count) named the dtype: PyTorch checks the batch size, then the target's rank, then its dtype.
@pytest.mark.parametrize('shapes', [((3, 4), (3, 5), 'f'), ((3, 4), (3,), 'f'), ((3, 4, 2), (3, 2), 'f'),
                                    ((3, 4, 2), (3, 4), 'f'), ((3, 4), (2,), 'f'), ((3, 4, 2), (2, 2), 'f'),
                                    ((3, 4, 2, 2), (3, 2), 'f'), ((3, 4, 2, 2), (3, 2, 3), 'f'),
                                    ((3, 4, 2, 2), (3, 2, 3), 'i'), ((3, 4, 2), (3, 3), 'i'), ((4,), (3, 4), 'f'),
                                    ((3, 4, 2, 2, 2), (3, 2, 2), 'i'), ((3, 4), (3, 5), 'i')])
@pytest.mark.parametrize('op', ['cross_entropy', 'nll_loss'])
def test_class_target_checks(shapes, op):
    def fn(lib):
        lib.manual_seed(0)
        xs, ts, kind = shapes
        t = lib.randn(*ts) if kind == 'f' else lib.randint(0, 2, ts)
        return getattr(lib.nn.functional, op)(lib.randn(*xs), t)
    run_both(fn, message=True)


# -- pad_sequence of sequences whose trailing sizes differ named ember's stack: PyTorch copies each sequence into its
# slot of the output, broadcasting it there (``(3,)`` and ``(3, 1)`` fill rows), else refusing in copy_'s words.
@pytest.mark.parametrize('shapes', [((2, 3), (3, 4)), ((2, 3), (3, 1)), ((2, 3), (3,)), ((2, 3, 2), (3, 3)),
                                    ((2, 3), (3, 3, 1)), ((2,), (3, 2)), ((2, 1), (1, 3)), ((2, 3), (1, 2))])
@pytest.mark.parametrize('batch_first', [False, True])
def test_pad_sequence_trailing_sizes(shapes, batch_first):
    def fn(lib):
        lib.manual_seed(0)
        seqs = [lib.randn(*s, requires_grad=True) for s in shapes]
        out = lib.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first, padding_value=-1.0)
        (out * lib.arange(out.numel()).reshape(out.shape)).sum().backward()
        return out, [s.grad for s in seqs]
    run_both(fn, message=True)


# -- ``F.dropout(x, p, training=mode)`` with a non-bool flag ran as training: PyTorch's kernels take a Python bool only.
@pytest.mark.parametrize('call', ['dropout(x, training="yes")', 'dropout(x, 0.5, 1)', 'dropout(x, 0.5, None)',
                                  'alpha_dropout(x, 0.5, "a")', 'dropout2d(x, 0.5, "a")', 'dropout1d(x, 0.5, "a")',
                                  'dropout1d(x[0], 0.5, "a")', 'dropout3d(x[None], 0.5, "a")',
                                  'feature_alpha_dropout(x, 0.5, "a")', 'dropout(x, 0.5, np.bool_(True))',
                                  'dropout(x, 0.5, lib.tensor(True))', 'dropout(x, 1.5, "a")', 'dropout(x, 0, "a")',
                                  'dropout(x, 0.5, False)'])
def test_dropout_training_flag(call):
    import warnings

    def fn(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return eval('lib.nn.functional.' + call, {'lib': lib, 'x': x, 'np': np})
    run_both(fn, message=True)


# -- einsum with the wrong operand count raised ValueError: PyTorch's is a RuntimeError saying fewer or more.
@pytest.mark.parametrize('call', ['einsum("ij,jk", lib.ones(2, 3))', 'einsum("ij", lib.ones(2, 3), lib.ones(3))',
                                  'einsum("ij,jk->ik", lib.ones(2, 3))',
                                  'einsum("ij,jk->ik", lib.ones(2, 3), lib.ones(3, 2), lib.ones(2))'])
def test_einsum_operand_count(call):
    run_both(lambda lib: eval('lib.' + call, {'lib': lib}), message=True)


# -- grid_sample with a grid of the wrong last size or batch named both at once: PyTorch checks the grid's last size
# (the input's spatial dims) first, then the batch sizes.
@pytest.mark.parametrize('shapes', [((1, 1, 4, 4), (1, 2, 2, 3)), ((2, 1, 4, 4), (1, 2, 2, 2)),
                                    ((1, 1, 4, 4), (2, 2, 2)), ((1, 1, 4, 4), (1, 2, 2, 2, 3)),
                                    ((1, 1, 4, 4, 4), (1, 2, 2, 2, 2)), ((1, 1, 4, 4, 4), (2, 2, 2, 2, 3)),
                                    ((1, 1, 4, 4), (1, 2, 2, 2))])
def test_grid_sample_grid_checks(shapes):
    def fn(lib):
        lib.manual_seed(0)
        return lib.nn.functional.grid_sample(lib.randn(*shapes[0]), lib.rand(*shapes[1]) * 2 - 1, align_corners=False)
    run_both(fn, message=True, tol=1e-5)
