"""Write ember/data/rsqrtps_amd.u16.gz: this CPU's SSE ``rsqrtps`` estimates, which MKL's sqrt kernel for PyTorch on an
AMD CPU with AVX-512 starts from (ember/ops/_vml_sqrt.py). Needs a C compiler and an x86-64 CPU; run it on the CPU
whose estimates are wanted. ``rsqrtps`` is exact in scaling by 4 and reads a float's exponent parity and 12 leading
mantissa bits (checked here on every float32 in [1, 4)); its estimates have 12 mantissa bits, so the table holds,
for odd then even exponents (x in [1, 2) then [2, 4)) and each 12-bit lead, (estimate's bits - 0.5's) >> 11."""
import ctypes
import gzip
import os
import subprocess
import tempfile

import numpy as np

_C = '#include <xmmintrin.h>\nvoid rsq(const float *x, float *y, long n) {\n' \
     '    for (long i = 0; i < n; i += 4) _mm_storeu_ps(y + i, _mm_rsqrt_ps(_mm_loadu_ps(x + i)));\n}\n'
OUT = os.path.join(os.path.dirname(__file__), '..', 'ember', 'data', 'rsqrtps_amd.u16.gz')


def _rsqrtps():
    """rsqrtps over a float32 array (length a multiple of 4), compiled here."""
    d = tempfile.mkdtemp()
    src, lib = os.path.join(d, 'rsq.c'), os.path.join(d, 'rsq.so')
    with open(src, 'w') as f:
        f.write(_C)
    subprocess.run(['cc', '-O2', '-shared', '-fPIC', src, '-o', lib], check=True)
    fn = ctypes.CDLL(lib).rsq

    def rsq(x):
        y = np.empty_like(x)
        fn(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(x.size))
        return y
    return rsq


def main():
    rsq = _rsqrtps()
    x = np.arange(0x3f800000, 0x40800000, dtype=np.uint32).view(np.float32)   # [1, 4): both parities
    y = rsq(x)
    assert np.array_equal(rsq(x * np.float32(4)), y / np.float32(2)), 'rsqrtps is not exact in scaling by 4'
    yb = y.view(np.uint32)
    lead = yb[::1 << 11]
    assert np.array_equal(np.repeat(lead, 1 << 11), yb), 'rsqrtps reads more than 12 mantissa bits'
    assert not (lead & 0x7ff).any() and lead.min() >= 0x3f000000 and lead.max() < 0x3f800000
    table = ((lead - 0x3f000000) >> 11).astype('<u2')
    with open(OUT, 'wb') as f:
        f.write(gzip.compress(table.tobytes(), 9, mtime=0))
    print(f'wrote {OUT}: {table.size} estimates')


if __name__ == '__main__':
    main()
