"""Real PyTorch programs under the alias against PyTorch (session 45, lane realK): the udlbook (Understanding
Deep Learning) notebooks on MNIST-1D and fast.ai course22p2's first notebooks (matmul, meanshift, backprop,
minibatch training) on tiny stand-in data; each defect found is reduced here to the lines that found it (the
programs themselves are not needed)."""
import pytest

from helpers import run_both


# -- course22p2's 02_meanshift prints ``torch.einsum('ij,jk->ik', weight, X)`` and ``weight@X``: in PyTorch the
# einsum is the bmm of the same product, the same bits as ``@``; ember's einsum summed in NumPy's own order, so
# the two printed different last digits in ember (and one of them PyTorch's).
_CONTRACTIONS = [('ij,jk->ik', (5, 1500), (1500, 2), 'mm'),
                 ('ij,kj->ik', (30, 40), (50, 40), 'mm_t'), ('bij,bjk->bik', (4, 6, 50), (4, 50, 7), 'bmm'),
                 ('bhqd,bhkd->bhqk', (2, 3, 5, 16), (2, 3, 7, 16), 'attn'), ('bi,ij->bj', (32, 100), (100, 50), 'mm')]


@pytest.mark.parametrize('eq,sa,sb,kind', _CONTRACTIONS, ids=lambda v: str(v))
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_einsum_contraction_is_the_matrix_product_bit_for_bit(eq, sa, sb, kind, dtype):
    def fn(lib):
        g = lib.Generator().manual_seed(0)
        dt = getattr(lib, dtype)
        a, b = lib.randn(sa, generator=g, dtype=dt), lib.randn(sb, generator=g, dtype=dt)
        e = lib.einsum(eq, a, b)
        p = {'mm': lambda: a @ b, 'mm_t': lambda: a @ b.T, 'bmm': lambda: lib.bmm(a, b),
             'attn': lambda: a @ b.transpose(-2, -1)}[kind]()
        return bool(lib.equal(e, p)), e.stride()
    run_both(fn)


# -- einsum keeps each equation's plan by shapes and dtypes (a small einsum's checks and layout cost 3/4 of its time):
# one equation alternating shapes, dtypes and size-1 labels, with a bad call between, as PyTorch's each time.
def test_einsum_plan_kept_per_shapes_and_dtypes():
    def fn(lib):
        g = lib.Generator().manual_seed(2)
        out = []
        for _ in range(2):
            for sa, sb, dt in [((4, 8), (8, 6), 'float32'), ((3, 8), (8, 5), 'float32'), ((4, 8), (8, 6), 'float64'),
                               ((4, 1), (1, 6), 'float32'), ((1, 8), (8, 1), 'float32'),
                               ((20, 30), (30, 40), 'float32')]:
                a, b = (lib.randn(s, generator=g, dtype=getattr(lib, dt)) for s in (sa, sb))
                e = lib.einsum('bi,ij->bj', a, b)
                out.append((bool(lib.equal(e, lib.bmm(a[None], b[None])[0])), e.stride(), e.dtype))
                out.append(e if e.numel() < 100 else None)    # (bmm's naive loop: PyTorch's bits; gemm's differ)
            try:
                lib.einsum('bi,ij->bj', lib.ones(4, 8), lib.ones(7, 6))
            except RuntimeError as ex:
                out.append(str(ex))
        return out
    run_both(fn, tol=0)


@pytest.mark.parametrize('args', [('ij',), (['ij'],), (None,), ()], ids=str)
def test_einsum_without_operands_raises_as_pytorch(args):
    run_both(lambda lib: lib.einsum(*args), message=True)



# -- course22p2's 01_matmul fills ``c[i, j] = torch.dot(a[i, :], b[:, j])`` and checks it against its triple loop's
# ``t1[i, j] += a[i, k] * b[k, j]`` within 1e-5: PyTorch's float32 dot of a strided column adds the rounded products
# in order (the loop's sum exactly); ember's np.dot summed in blocks and the check failed.
@pytest.mark.parametrize('n', [5, 31, 784, 5000])
@pytest.mark.parametrize('which', ['column', 'row_by_column', 'both', 'expanded'])
@pytest.mark.parametrize('op', ['dot', 'vdot'])
def test_float32_dot_of_a_strided_vector_sums_in_order_as_pytorch(op, which, n):
    def fn(lib):
        g = lib.Generator().manual_seed(n)
        a, b = lib.randn(n, 3, generator=g), lib.randn(n, 3, generator=g)
        x = {'column': a[:, 0].contiguous(), 'row_by_column': a.T[0], 'both': a[:, 1],
             'expanded': a[0, :1].expand(n)}[which]
        return getattr(lib, op)(x, b[:, 2])
    run_both(fn)


def test_matmul_notebook_dot_matches_its_loop():
    """01_matmul's cells: the loop's sums and the dots agree exactly, as in PyTorch."""
    def fn(lib):
        g = lib.Generator().manual_seed(1)
        m1, m2 = lib.rand(2, 784, generator=g), lib.randn(784, 3, generator=g)
        t1 = lib.zeros(2, 3)
        for i in range(2):
            for j in range(3):
                acc = lib.zeros(())
                for k in range(784):
                    acc += m1[i, k] * m2[k, j]
                t1[i, j] = acc
        d = lib.stack([lib.stack([lib.dot(m1[i, :], m2[:, j]) for j in range(3)]) for i in range(2)])
        return t1, d, bool(lib.equal(t1, d))
    run_both(fn)
