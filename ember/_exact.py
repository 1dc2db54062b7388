"""The opt-in switch for ember's costly bit-for-bit kernels: emulations of PyTorch's float32 softmax, log_softmax and
cross_entropy (SLEEF's expf and logf, its 16-lane sums: ops/_sleef.py) and layer_norm (its chunked Welford moments and
fused steps: nn/functional/_ln_exact.py), GELU's gradient (oneDNN's: nn/functional/_gelu_cpu.py), group_norm
(nn/functional/_gn_exact.py), the scatters of interpolate's and grid_sample's gradients (nn/functional/_interp_exact.py,
_grid_sample_exact.py), bicubic's fused taps, nll_loss's cascade over ignored targets, sigmoid/silu (ops/_vec_exp.py),
the ELU family and expm1 (ops/_sleef_expm1.py), log1p (ops/_sleef_log1p.py), softplus and mish (ops/_vec_softplus.py),
a Linear's weight, input and bias gradients (ops/_mkl_narrow.py: MKL's orders), cross_entropy with label smoothing and
batch_norm's sums, multiply-adds and float64 statistics (nn/functional/_bn_planes.py, _bn_rows.py).
They give PyTorch's last bits at 2-600x the cost of the default passes (which agree within rounding), so they are off
unless EMBER_EXACT_KERNELS=1 at import or ember.backend.exact_kernels(True)."""
import os

ON = [os.environ.get('EMBER_EXACT_KERNELS', '') == '1']


def enabled():
    """Whether the bit-for-bit kernels are on."""
    return ON[0]
