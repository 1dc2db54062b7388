"""Real PyTorch libraries under the alias against PyTorch (session 41, lane realC): torch-audiomentations 0.12.0,
julius 0.2.8 and others, each reduced to the lines that found a defect in ember."""
import pytest

from helpers import run_both


# -- torch-audiomentations: AddColoredNoise draws normal(tensor(0.), tensor(1.), (n,)) -----------------------------
@pytest.mark.parametrize('mean,std', [('t0', 't1'), ('t0', 1.0), (0.0, 't1'), ('t2d', 't3'), ('ti', 't1'),
                                      ('tg', 't1'), ('t1d', 't1'), ('t0', 'tneg')])
def test_normal_with_size_takes_zero_dim_tensors_as_numbers(mean, std):
    """PyTorch's parser takes a 0-d tensor that needs no grad as the float of normal(mean, std, size): the draw is
    normal(float, float, size), in the default dtype whatever the tensors' dtypes. One that needs grad, or has a
    dimension, matches no overload (TypeError); a negative std is normal's RuntimeError."""
    def arg(L, v):
        return {'t0': lambda: L.tensor(0.0), 't1': lambda: L.tensor(1.0), 't2d': lambda: L.tensor(2.0, dtype=L.float64),
                't3': lambda: L.tensor(3.0), 'ti': lambda: L.tensor(1), 'tg': lambda: L.tensor(0.0, requires_grad=True),
                't1d': lambda: L.tensor([0.0]), 'tneg': lambda: L.tensor(-1.0)}[v]() if isinstance(v, str) else v

    def run(L):
        L.manual_seed(0)
        a = L.normal(arg(L, mean), arg(L, std), (6,))
        b = L.normal(arg(L, mean), arg(L, std), (2, 3), generator=L.Generator().manual_seed(3), dtype=L.float64)
        return a, str(a.dtype), b, str(b.dtype)
    run_both(run, message=mean != 't1d' and mean != 'tg')
