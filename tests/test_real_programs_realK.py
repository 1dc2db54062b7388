"""Real PyTorch programs under the alias against PyTorch (session 45, lane realK): the udlbook (Understanding
Deep Learning) notebooks on MNIST-1D and fast.ai course22p2's first notebooks (matmul, meanshift, backprop,
minibatch training) on tiny stand-in data; each defect found is reduced here to the lines that found it (the
programs themselves are not needed)."""
import pytest

from helpers import run_both


# -- course22p2's 02_meanshift prints ``num``, ``torch.einsum('ij,jk->ik', weight, X)`` and ``weight@X``: in
# PyTorch the einsum is the bmm of the same product (its bits), ember's einsum summed in NumPy's own order and
# printed 598.217 where both libraries' ``@`` print 598.218.
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

