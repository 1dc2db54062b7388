"""The array library behind ember: every op reaches NumPy through ``xp`` so that a CuPy backend can
replace it later without touching op code (Chainer's approach)."""
import numpy as xp

__all__ = ['xp']
