"""Result layouts as PyTorch's: each row runs one program on both libraries and compares, for every tensor it
returns, shape, stride(), is_contiguous(), storage_offset(), and whether view(-1) and mT.is_contiguous() agree.
LAPACK-backed results are column-major in each matrix (batch dims outermost); found by a fuzz of stride() over
every registry sample (tests/registry.py) against PyTorch."""
import numpy as np
import pytest
import torch

import ember

_G = np.random.default_rng(0)
A = _G.standard_normal((4, 4)) + 4 * np.eye(4)           # well conditioned
B = _G.standard_normal((4, 2))
R = _G.standard_normal((5, 3))                             # tall
W = _G.standard_normal((3, 5))                             # wide
S = A @ A.T                                                # symmetric positive-definite
AB = np.stack([A, A.T + np.eye(4)])                        # a batch of two
SB = np.stack([S, S + np.eye(4)])
ENV = {'A': A, 'B': B, 'R': R, 'W': W, 'S': S, 'AB': AB, 'SB': SB, 'np': np}

LINALG = [
    'L.linalg.inv(t(A))', 'L.linalg.inv(t(AB))', 'L.inverse(t(AB))', 'L.linalg.inv_ex(t(A))',
    'L.linalg.solve(t(A), t(B))', 'L.linalg.solve(t(AB), t(B))', 'L.linalg.solve(t(A), t(B[:, :1]))',
    'L.linalg.solve(t(AB), t(B[None, :, :1].repeat(2, 0)))', 'L.linalg.solve(t(A), t(B[:, 0]))',
    'L.linalg.solve(t(A), t(B.T), left=False)', 'L.linalg.solve_ex(t(A), t(B))',
    'L.linalg.cholesky(t(S))', 'L.linalg.cholesky(t(SB))', 'L.linalg.cholesky(t(S), upper=True)',
    'L.cholesky(t(S))', 'L.cholesky(t(S), upper=True)', 'L.linalg.cholesky_ex(t(SB))',
    'L.linalg.qr(t(R))', 'L.linalg.qr(t(W))', 'L.linalg.qr(t(R), mode="complete")', 'L.linalg.qr(t(R), mode="r")',
    'L.qr(t(R))', 'L.qr(t(R), some=False)',
    'L.linalg.svd(t(R))', 'L.linalg.svd(t(W), full_matrices=False)', 'L.linalg.svd(t(AB))', 'L.svd(t(R))',
    'L.linalg.eigh(t(S))', 'L.linalg.eigh(t(SB))', 'L.linalg.eig(t(A))', 'L.linalg.eig(t(AB))',
    'L.linalg.lstsq(t(A), t(B))', 'L.linalg.lstsq(t(R), t(R))', 'L.linalg.lstsq(t(W), t(W))',
    'L.linalg.lstsq(t(np.stack([R, R])), t(np.stack([R, R])))', 'L.linalg.lstsq(t(R), t(R), driver="gelsd")',
    'L.linalg.solve_triangular(t(np.triu(A)), t(B), upper=True)',
    'L.linalg.solve_triangular(t(np.triu(A)), t(B.T), upper=True, left=False)',
    'L.linalg.solve_triangular(t(np.tril(AB)), t(B), upper=False)',
    'L.triangular_solve(t(B), t(np.triu(A)))', 'L.triangular_solve(t(B), t(np.triu(AB)), transpose=True)',
    'L.cholesky_solve(t(B), t(np.linalg.cholesky(S)))', 'L.cholesky_solve(t(B), t(np.linalg.cholesky(SB)))',
    'L.cholesky_inverse(t(np.linalg.cholesky(S)))', 'L.cholesky_inverse(t(np.linalg.cholesky(SB)))',
    'L.cholesky_inverse(t(np.linalg.cholesky(S).T), upper=True)',
    'L.geqrf(t(R))', 'L.geqrf(t(AB))', 'L.linalg.householder_product(t(R), t(R[:3, 0]))',
    'L.orgqr(t(np.stack([R, R])), t(R[:2, :2]))',
    'L.linalg.ldl_factor(t(S))', 'L.linalg.ldl_factor(t(SB))', 'L.linalg.ldl_factor_ex(t(S))',
    'L.linalg.ldl_solve(*L.linalg.ldl_factor(t(S)), t(B))',
    'L.linalg.lu_factor(t(A))', 'L.linalg.lu_factor(t(W))', 'L.linalg.lu_factor_ex(t(AB))', 'L.lu(t(A))',
    'L.lu(t(AB), get_infos=True)', 'L.linalg.lu(t(A))', 'L.linalg.lu(t(R))', 'L.linalg.lu(t(AB))',
    'L.lu_unpack(*L.linalg.lu_factor(t(W)))',
    'L.linalg.lu_solve(*L.linalg.lu_factor(t(A)), t(B))',
    'L.linalg.lu_solve(*L.linalg.lu_factor(t(A)), t(B.T), left=False)',
    'L.linalg.lu_solve(*L.linalg.lu_factor(t(A)), t(B), adjoint=True)',
    'L.linalg.lu_solve(*L.linalg.lu_factor(t(AB)), t(B), adjoint=True)',
    'L.linalg.lu_solve(*L.linalg.lu_factor(t(A)), t(B.T), adjoint=True, left=False)',
    'L.lu_solve(t(B), *L.linalg.lu_factor(t(A)))',
    'L.svd(t(R), compute_uv=False)', 'L.svd(t(AB), compute_uv=False)',
    'L.linalg.tensorinv(t(A.reshape(2, 2, 4)))', 'L.linalg.tensorinv(t(A.reshape(4, 2, 2)), ind=1)',
    'L.linalg.matrix_power(t(A), -1)', 'L.linalg.matrix_power(t(AB), -2)', 'L.linalg.pinv(t(R))',
    'L.linalg.matrix_exp(t(AB))',
]
PRODUCTS = [   # products of stacks are row-major whatever their operands' layouts
    'L.linalg.inv(t(AB)) @ t(AB)', 'L.bmm(t(AB).mT, t(AB))', 't(AB).mT @ t(AB).mT',
    'L.linalg.svd(t(AB)).U * 2 @ L.linalg.svd(t(AB)).Vh',
]

OTHERS = [   # results PyTorch lays out row-major (or as views of one array) where ember's came out otherwise
    'L.cross(t(np.ones((3, 4))), t(W[:, :4]))', 'L.cross(t(W.T[:3]), t(W.T[1:4]), dim=0)',
    'L.linalg.cross(t(W[:, :3]), t(W[:, 2:]), dim=0)',
    'L.nn.functional.conv_tbc(t(R[:, None].repeat(2, 1)), t(np.ones((2, 3, 4))), t(np.ones(4)))',
    'L.nn.functional.conv_tbc(t(R[:, None].repeat(2, 1)), t(np.ones((3, 3, 4))), t(np.ones(4)), 1)',
    'L.nn.functional.adaptive_avg_pool3d(t(np.ones((2, 3, 6, 4, 6))), 3)',
    'L.nn.functional.adaptive_avg_pool3d(t(np.ones((2, 3, 7, 5, 4))), (3, 2, 4))',
    'L.cdist(t(np.ones((2, 1, 3, 2))), t(np.ones((4, 5, 2))))',
    'L.special.hermite_polynomial_h(t(W).T, 3)', 'L.special.chebyshev_polynomial_t(2.0, t(A).T)',
    'L.special.legendre_polynomial_p(t(A).T, L.tensor(2))', 'L.special.laguerre_polynomial_l(t(W).T, t(W).T)',
    'L.unravel_index(L.tensor([5, 7]), (3, 4))', 'L.unravel_index(L.tensor([[5, 7, 1]]), (2, 3, 4))',
]

ROUND2 = [   # found by a layout fuzz of every registry sample (contiguous, transposed, channels_last, sliced, expanded)
    # a broadcast (expanded) input: C order where TensorIterator finds its zero strides ambiguous
    't(A[:1]).expand(4, 4).sin()', 't(A[:1]).expand(4, 4).exp()', 't(A[:1]).expand(4, 4) * t(A).double()',
    't(A).double().t() * t(A[:1]).expand(4, 4)', 't(A[:1]).expand(4, 4) * t(A).double().t()',
    't(A[:, :1]).expand(4, 4) + t(A).double()', 'L.tensor(np.ones((3, 1), np.int64)).expand(3, 4) * 1.5',
    't(np.ones((2, 1, 3))).expand(2, 4, 3) * t(np.ones((2, 4, 3))).double()',
    'L.tensor(np.ones((1, 4), np.int64)).expand(3, 4).exp()', 'L.tensor(np.ones((1, 4), bool)).expand(3, 4).sqrt()',
    # keepdim reductions of a permuted input: a size-1 dim's stride is C's
    't(AB).transpose(1, 2).amax(-1, keepdim=True)', 't(AB).transpose(1, 2).prod(-1, keepdim=True)',
    't(AB).transpose(1, 2).all(-1, keepdim=True)', 't(AB).transpose(1, 2).any(-1, keepdim=True)',
    'L.aminmax(t(AB).transpose(1, 2), dim=-1, keepdim=True)', 't(AB).transpose(1, 2).amin((0, 2), keepdim=True)',
    # out-of-place index writes clone their input as clone() does (preserve_format)
    'L.index_put(t(A).t(), (L.tensor([0, 2]),), L.ones(2, 4))', 't(W).t().index_put((L.tensor([0, 2]),) * 2, L.ones(2), True)',
    'L.select_scatter(t(W).t(), L.ones(3), 0, 1)', 'L.slice_scatter(t(W).t(), L.ones(5, 2), 1, 0, 2)',
    'L.diagonal_scatter(t(W).t(), L.ones(3))', 't(W).t().index_fill(0, L.tensor([0, 2]), 1.0)',
    't(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last).index_fill(1, L.tensor([0, 2]), 1.0)',
    'L.index_put(t(A[:1]).expand(3, 4), (L.tensor([0, 2]),), L.ones(2, 4))',
    # transposed and 3-D convolutions return channels-last when their input or weight is (as 2-D ones)
    'L.nn.functional.conv_transpose2d(t(np.ones((2, 3, 4, 4))).to(memory_format=L.channels_last), t(np.ones((3, 4, 3, 3))))',
    'L.nn.functional.conv_transpose2d(t(np.ones((2, 3, 4, 4))), t(np.ones((3, 4, 3, 3))).to(memory_format=L.channels_last))',
    'L.nn.functional.conv3d(t(np.ones((2, 3, 4, 5, 4))).to(memory_format=L.channels_last_3d), t(np.ones((4, 3, 2, 3, 2))))',
    # 3-D convolutions stay C order where PyTorch's slow kernels run: float64, float16, one float32 sample
    'L.nn.functional.conv3d(t(np.ones((1, 3, 4, 5, 4))).to(memory_format=L.channels_last_3d), t(np.ones((4, 3, 2, 3, 2))))',
    'L.nn.functional.conv3d(t(np.ones((2, 3, 4, 5, 4))).double().to(memory_format=L.channels_last_3d), '
    't(np.ones((4, 3, 2, 3, 2))).double())',
    'L.nn.functional.conv3d(t(np.ones((2, 3, 4, 5, 4))).half().to(memory_format=L.channels_last_3d), '
    't(np.ones((4, 3, 2, 3, 2))).half())',
    'L.nn.functional.conv3d(t(np.ones((1, 3, 4, 5, 4))).bfloat16().to(memory_format=L.channels_last_3d), '
    't(np.ones((4, 3, 2, 3, 2))).bfloat16())',
    'L.nn.functional.conv_transpose3d(t(np.ones((2, 3, 4, 5, 4))).double().to(memory_format=L.channels_last_3d), '
    't(np.ones((3, 4, 2, 3, 2))).double())',
    'L.nn.functional.conv3d(t(np.ones((2, 3, 4, 5, 4))), t(np.ones((4, 3, 2, 3, 2))).to(memory_format=L.channels_last_3d))',
    'L.nn.functional.conv_transpose3d(t(np.ones((2, 3, 4, 5, 4))).to(memory_format=L.channels_last_3d), '
    't(np.ones((3, 4, 2, 3, 2))), t(np.ones(4)))',
    # pixel/channel shuffles keep a channels-last input's layout (a one-channel result's size-1 dim included)
    'L.nn.functional.pixel_shuffle(t(np.ones((1, 8, 2, 3))).to(memory_format=L.channels_last), 2)',
    'L.nn.functional.pixel_shuffle(t(np.ones((1, 4, 2, 2))).to(memory_format=L.channels_last), 2)',
    'L.nn.functional.pixel_unshuffle(t(np.ones((1, 2, 4, 6))).to(memory_format=L.channels_last), 2)',
    'L.nn.functional.channel_shuffle(t(np.ones((1, 6, 2, 2))).to(memory_format=L.channels_last), 3)',
    'L.native_channel_shuffle(t(np.ones((1, 6, 2, 2))).to(memory_format=L.channels_last), 3)',
    'L.nn.functional.max_pool3d(t(np.arange(192.).reshape(2, 3, 4, 4, 2)).to(memory_format=L.channels_last_3d), 2, '
    'return_indices=True)',
    'L.take(t(A).t(), L.tensor([[0, 5], [3, 7]]).t())', 'L.take(t(A), L.tensor([[0, 5, 1], [3, 7, 2]])[:, ::2])',
    'L.linalg.matrix_power(t(A).t(), 1)', 'L.linalg.matrix_power(t(A).t(), 0)', 'L.matrix_power(t(AB).mT, 1)',
]

ROUND3 = [   # a third layout fuzz of the registry samples (contiguous, transposed, channels_last, sliced, expanded)
    # nonzero is column-major (strides (1, n), (1, 0) when empty); its as_tuple form and where(cond) are its columns
    'L.where(t(np.array([[1, 0, 1], [0, 1, 1]])) > 0)', 'L.where(t(np.ones((2, 2, 3))) > 0)',
    'L.nonzero(t(np.array([[1, 0, 1], [0, 1, 1]])), as_tuple=True)', 'L.nonzero(t(np.ones(5)), as_tuple=True)',
    'L.nonzero(t(np.zeros((2, 3))))', 'L.argwhere(t(np.zeros((2, 3))))', 'L.nonzero(t(np.array(0.)))',
    'L.nonzero(t(np.array(1.)), as_tuple=True)',
    # unique(_consecutive) along a dim: laid out with that dim outermost, seen back in its place
    'L.unique_consecutive(t(np.array([[1., 1, 2], [3, 3, 4]])), dim=1)',
    'L.unique_consecutive(t(np.array([[1., 1, 2], [3, 3, 4]])), dim=0)',
    'L.unique_consecutive(t(np.ones((2, 3, 4))), dim=1, return_inverse=True, return_counts=True)',
    'L.unique_consecutive(t(np.ones((2, 3, 4))), dim=2)',
    'L.unique_consecutive(t(np.ones((2, 3, 4))).transpose(0, 2), dim=-1)',
    'L.unique_consecutive(t(np.array([1., 1, 2, 2, 3])))', 'L.unique(t(np.ones((2, 3, 4))), dim=2)',
    'L.unique(t(np.ones((2, 3, 4))), dim=1, return_inverse=True)',
    # expand keeps the stride of a size-1 dim that stays size 1 (NumPy's broadcast_to zeroes it): meshgrid of 0-d
    "L.meshgrid(t(np.ones(3)), t(np.ones(())), t(np.ones(2)), indexing='xy')",
    "L.meshgrid(t(np.ones(3)), t(np.ones(())), t(np.ones(2)), indexing='ij')",
    "L.meshgrid(t(np.ones(3)), t(np.ones(2)), indexing='xy')",
    "L.meshgrid(t(np.ones(())), t(np.ones(2)), indexing='ij')", 't(np.ones(2)).view(1, 1, 2).expand(1, 3, 2)',
    't(np.ones(())).view(1, 1, 1).expand(1, 3, 1)', 't(np.ones(())).view(-1, 1).expand(1, 3)',
    't(np.ones((1, 3))).expand(2, 1, 3)', 't(np.ones((1, 3, 1))).expand(1, 3, 4)',
    't(np.ones((4, 1, 3)))[:, :, :1].expand(4, 1, 5)', 't(np.ones((1, 3))).expand(1, -1)',
    'L.broadcast_to(t(np.ones((1, 1, 3))), (1, 2, 3))',
    'L.broadcast_tensors(t(np.ones((1, 1, 3))), t(np.ones((1, 2, 1))))',
    # to(memory_format=...) returns its input only where PyTorch's suggest_memory_format names that format: a
    # C-contiguous (N, 1, H, W) or (N, C, 1, 1) is copied to channels-last strides (HW, 1, W, 1), (C, 1, C, C)
    't(np.ones((1, 1, 4, 5))).to(memory_format=L.channels_last)',
    't(np.ones((2, 1, 4, 5))).to(memory_format=L.channels_last)',
    't(np.ones((1, 3, 1, 1))).to(memory_format=L.channels_last)',
    't(np.ones((2, 3, 1, 1))).to(memory_format=L.channels_last)',
    't(np.ones((1, 3, 4, 1))).to(memory_format=L.channels_last)',
    't(np.ones((1, 1, 1, 1))).to(memory_format=L.channels_last)',
    't(np.ones((1, 1, 2, 4, 5))).to(memory_format=L.channels_last_3d)',
    't(np.ones((1, 1, 4, 5))).to(memory_format=L.channels_last).to(memory_format=L.channels_last)',
    't(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last).to(memory_format=L.channels_last)',
    't(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last)',
    't(np.ones((2, 5, 4, 3))).permute(0, 3, 2, 1).to(memory_format=L.channels_last)',
    't(np.ones((1, 3, 1, 5))).to(memory_format=L.channels_last)',
    't(np.ones((1, 1, 1, 5))).to(memory_format=L.channels_last)',
    't(np.ones((3, 1, 1, 1))).to(memory_format=L.channels_last)',
    't(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last).to(L.float64, memory_format=L.channels_last)',
    't(np.ones((2, 1, 4, 5, 2))).to(memory_format=L.channels_last_3d)',
    't(np.ones((2, 3, 1, 1, 1))).to(memory_format=L.channels_last_3d)',
    't(np.ones((2, 3, 4, 5, 2))).to(memory_format=L.channels_last_3d).to(memory_format=L.channels_last_3d)',
    't(np.ones((1, 1, 4, 5))).to(memory_format=L.channels_last).to(memory_format=L.contiguous_format)',
    't(np.ones((2, 3, 1, 1))).to(memory_format=L.channels_last).contiguous()',
    # special functions (float64 kernels, Bessel/Airy, logit) of broadcast or permuted inputs: PyTorch's layout
    'L.special.erfc(t(A[:1]).expand(4, 4))', 'L.special.erfcx(t(A[:1]).expand(4, 4))',
    'L.erfinv(t(A[:1] / 10).expand(4, 4))', 'L.special.i0e(t(A[:1]).expand(4, 4))',
    'L.special.i1(t(A[:, :1]).expand(4, 4))', 'L.special.log_ndtr(t(A[:1]).expand(4, 4))',
    'L.special.bessel_j0(t(A[:1]).expand(4, 4))', 'L.special.bessel_y1(t(np.abs(A[:1]) + 1).expand(4, 4))',
    'L.special.modified_bessel_k0(t(np.abs(A[:1]) + 1).expand(4, 4))', 'L.special.airy_ai(t(A[:1]).expand(4, 4))',
    'L.special.bessel_j0(L.tensor(np.ones((1, 4), np.int64)).expand(3, 4))',
    'L.special.modified_bessel_i0(L.tensor(np.ones((1, 4), np.int64)).expand(3, 4))',
    'L.special.spherical_bessel_j0(t(A[:1]).expand(4, 4))', 'L.special.logit(t(np.full((1, 4), 0.3)).expand(3, 4))',
    'L.logit(t(np.full((1, 4), 0.3)).expand(3, 4), eps=0.1)', 'L.special.bessel_j1(t(W).t())',
    'L.special.erfc(t(W).t())', 'L.special.erfc(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last))',
    'L.special.bessel_j0(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last))',
    'L.special.erfc(t(np.ones((1, 40000))).expand(2, 40000))', 'L.special.erfc(t(np.ones((300, 200))).t())',
    # rot90 flips into its input's layout (as flip: preserve_format), then transposes for an odd k
    'L.rot90(t(W).t())', 'L.rot90(t(W).t(), 2)', 'L.rot90(t(W).t(), 3)', 'L.rot90(t(W).t(), -1)', 'L.rot90(t(W))',
    'L.rot90(t(np.ones((2, 3, 4))).transpose(0, 2), 1, [1, 2])',
    'L.rot90(t(np.ones((2, 3, 4))).transpose(0, 2), 1, [0, 2])',
    'L.rot90(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last), 1, [2, 3])', 'L.rot90(t(W).t(), 0)',
    'L.rot90(t(A[:1]).expand(4, 4))',
    # shifts lay their result out as other pointwise ops (np.where's was C order)
    'L.tensor(np.arange(6).reshape(3, 2)).t() << 2', 'L.tensor(np.arange(6).reshape(3, 2)).t() >> 1',
    'L.bitwise_left_shift(L.tensor(np.arange(6, dtype=np.uint8).reshape(3, 2)).t(), 7)',
    'L.bitwise_right_shift(L.tensor(np.arange(6, dtype=np.int8).reshape(3, 2)).t(), '
    'L.tensor(np.ones((3, 2), np.int8)).t())',
    '2 << L.tensor(np.arange(6).reshape(3, 2)).t()', 'L.tensor(np.arange(6).reshape(3, 2)) << 2',
    'L.tensor(np.arange(3).reshape(1, 3)).expand(2, 3) << 1',
    # isreal of a real tensor is ones_like (preserve_format); sign/sgn of bool keep the input's layout
    'L.isreal(t(W).t())', 'L.isreal(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last))',
    'L.isreal(t(A[:1]).expand(4, 4))', 'L.isreal(t(W))', 'L.sign(t(W).t() > 0)', 'L.sgn(t(W).t() > 0)',
    'L.sign(t(A[:1] > 0).expand(4, 4))', 'L.sign(t(W).t())',
    # complex/polar lay their result out as TensorIterator (a transposed pair: transposed)
    'L.view_as_real(L.complex(t(W).t(), t(W).t()))', 'L.view_as_real(L.polar(t(W).t(), t(W).t()))',
    'L.view_as_real(L.complex(t(W).t(), t(W.T)))', 'L.view_as_real(L.complex(t(W), t(W)))',
    'L.view_as_real(L.complex(t(W[:1]).expand(3, 5), t(W)))',
    'L.view_as_real(L.complex(t(W[:1]).expand(3, 5), t(W.T).t()))',
    'L.view_as_real(L.complex(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last), '
    't(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last)))',
    'L.view_as_real(L.polar(t(W).t(), t(W[0])[:, None]))',
    # addr's result is ordered by its input, as the kernel's TensorIterator (input first)
    'L.addr(t(W).t(), t(W[0]), t(W[1, :3]))', 'L.addr(t(W).t(), t(W[0]), t(W[1, :3]), beta=2, alpha=0.5)',
    'L.addr(t(W), t(W[0, :3]), t(W[1]))', 'L.addr(t(W[0]), t(W[0, :3]), t(W[1]))',
    'L.addr(t(W[:, :1]), t(W[0, :3]), t(W[1]))',
    'L.addr(L.tensor(np.ones((3, 2), np.int64)).t(), L.tensor(np.ones(2, np.int64)), L.tensor(np.ones(3, np.int64)))',
]

ROUND4 = [   # a fourth layout fuzz of the registry samples (contiguous, transposed, channels_last, sliced, expanded)
    # pointwise ops of an expanded input in PyTorch's C order (NumPy's astype/empty_like/copy put the broadcast dim
    # innermost: strides (1, 3) for PyTorch's (4, 1))
    't(A[:1]).expand(3, 4).sqrt()', 't(A[:1]).double().expand(3, 4).sqrt()', 't(A).t().sqrt()',
    't(A[:1]).expand(3, 4).sigmoid()', 'L.special.expit(t(A[:1]).expand(3, 4))', 't(A).t().sigmoid()',
    't(A[:1]).expand(3, 4).nan_to_num()', 'L.tensor(np.ones((1, 4), np.int64)).expand(3, 4).nan_to_num()',
    'L.tensor(np.ones((1, 4), bool)).expand(3, 4).square()',
    'L.tensor(np.ones((1, 4), np.int64)).expand(3, 4) / L.tensor(np.ones((1, 4), np.int64)).expand(3, 4)',
    'L.tensor(np.ones((1, 4), bool)).expand(3, 4) / L.tensor(np.ones((1, 4), bool)).expand(3, 4)',
    'L.atan2(L.tensor(np.ones((1, 4), np.int64)).expand(3, 4), L.tensor(np.ones((1, 4), np.int64)).expand(3, 4))',
    'L.xlogy(L.tensor(np.ones((1, 4), np.int64)).expand(3, 4), L.tensor(np.ones((1, 4), np.int64)).expand(3, 4))',
    'L.isclose(L.tensor(np.ones((1, 4), np.int64)).expand(3, 4), L.tensor(np.ones((1, 4), np.int64)).expand(3, 4))',
    'L.isclose(t(A).t(), t(A[:1]).expand(4, 4))', 'L.isclose(t(A[:1]).expand(3, 4), t(1.0))',
    'L.special.ndtr(t(A[:1]).expand(3, 4))', 'L.special.ndtri(t(np.full((1, 4), 0.3)).expand(3, 4))',
    'L.special.entr(t(A[:1]).expand(3, 4))', 'L.special.digamma(t(A[:1]).half().expand(3, 4))',
    'L.special.expm1(t(A[:1]).half().expand(3, 4))', 'L.special.sinc(t(A[:1]).half().expand(3, 4))',
    'L.nn.functional.mish(t(A[:1]).expand(3, 4))', 'L.nn.functional.mish(t(A).t())',
    # a float sum to one value off sum()'s small full-sum path owns its memory (was a 0-d view of a running sum)
    't(np.ones((1, 7))).double().sum(1)', 't(A).sum((0, 1))', 't(A).nansum()',
    "L.nn.functional.mse_loss(t(A), t(A.T), reduction='sum')", "L.linalg.matrix_norm(t(W), 'nuc')",
    # layer_norm's affine path and log_sigmoid write C order; rms_norm ends in contiguous(suggest_memory_format)
    'L.nn.functional.layer_norm(t(A).t(), (4,), t(np.ones(4)), t(np.zeros(4)))',
    'L.nn.functional.layer_norm(t(np.ones((2, 4, 3))).transpose(1, 2), (3, 4), t(np.ones((3, 4))), t(np.ones((3, 4))))',
    'L.nn.functional.rms_norm(t(np.ones((2, 4, 3))).transpose(1, 2), (4,))',
    'L.nn.functional.rms_norm(t(A).t(), (4,), t(np.ones(4)))', 'L.nn.functional.rms_norm(t(A).t().half(), (4,))',
    'L.nn.functional.rms_norm(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last), (5,))',
    'L.nn.functional.logsigmoid(t(A).t())', 'L.nn.functional.logsigmoid(t(A).t().double())',
    # max_pool1d without a gradient to record runs PyTorch's max_pool1d_impl: a C-contiguous result
    'L.nn.functional.max_pool1d(t(np.ones((2, 8, 3))).transpose(1, 2), 2)',
    'L.nn.functional.max_pool1d(t(np.ones((2, 8, 3))).transpose(1, 2), 3, 1, 1)',
    'L.nn.functional.max_pool1d(t(np.ones((2, 8, 3))).transpose(1, 2).requires_grad_(), 2)',
    'L.nn.functional.max_pool1d(t(np.ones((2, 8, 3))).transpose(1, 2), 2, return_indices=True)',
    # dropout(p=1) is input * 0: a transposed or channels-last input keeps its layout
    'L.nn.functional.dropout(t(W).t(), p=1.0)',
    'L.nn.functional.dropout(t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last), p=1.0)',
]
ROUND5 = [   # a fifth round: the fourth fuzz's leftovers
    # pow of a Python number is C-contiguous whatever the exponent's layout (ember followed the exponent's)
    '2 ** t(A).t()', 'L.pow(2, t(A).t())', '2.5 ** t(np.ones((2, 3, 4, 5))).to(memory_format=L.channels_last)',
    'L.pow(2, L.tensor(np.ones((3, 4), np.int64)).t())', 'L.float_power(2, t(W).t())', 'L.pow(t(2.0), t(A).t())',
    'L.pow(2.0, t(A[:1]).expand(3, 4))', 't(A).t() ** 2',
]


def t(lib):
    """The tensor constructor of ``lib`` (float32, as most programs use)."""
    return lambda a: lib.tensor(np.asarray(a), dtype=lib.float32)


def _layouts(r):
    if isinstance(r, (tuple, list)):
        return [x for o in r for x in _layouts(o)]
    if not hasattr(r, 'stride'):
        return []
    try:
        r.view(-1)
        views = True
    except RuntimeError:
        views = False
    mt = r.mT.is_contiguous() if r.dim() >= 2 else None
    return [(tuple(r.shape), r.stride(), r.is_contiguous(), r.storage_offset(), views, mt)]


def _check(src):
    got = {}
    for lib in (torch, ember):
        got[lib.__name__] = _layouts(eval(src, {'L': lib, 't': t(lib), **ENV}))   # noqa: S307 - rows above only
    assert got['ember'] == got['torch'], f'{src}:\n  ember {got["ember"]}\n  torch {got["torch"]}'


@pytest.mark.parametrize('src', LINALG)
def test_linalg_results_are_column_major(src):
    _check(src)


@pytest.mark.parametrize('src', PRODUCTS)
def test_products_are_row_major(src):
    _check(src)


@pytest.mark.parametrize('src', OTHERS)
def test_other_results_as_pytorchs(src):
    _check(src)


@pytest.mark.parametrize('src', ROUND2)
def test_layouts_round2(src):
    _check(src)


@pytest.mark.parametrize('src', ROUND3)
def test_layouts_round3(src):
    _check(src)


@pytest.mark.parametrize('src', ROUND4)
def test_layouts_round4(src):
    _check(src)


@pytest.mark.parametrize('src', ROUND5)
def test_layouts_round5(src):
    _check(src)


@pytest.mark.parametrize('src', ['L.nn.functional.rms_norm(x, (4,))', 'L.nn.functional.rms_norm(x.half(), (4,))',
                                 'L.nn.functional.rms_norm(x, (4,), L.ones(4))'])
def test_rms_norm_of_transposed_input_ends_in_a_copy(src):
    """PyTorch's rms_norm of a transposed input: its C-contiguous result's grad_fn is the copy's."""
    names = [eval(src, {'L': L, 'x': L.ones(2, 4, 3).transpose(1, 2).requires_grad_()}).grad_fn.name()  # noqa: S307
             for L in (torch, ember)]
    assert names[0] == names[1]


def test_ctc_loss_expanded_concatenated_targets():
    """ctc_loss of 1-D (concatenated) targets expanded from one label: ember reads them through their strides.
    PyTorch's CPU kernel offsets each sample's targets by element counts, ignoring the stride, so it reads past
    the one-element storage (garbage losses; its backward then indexes with those labels and corrupted the heap of
    the session 47 layout fuzz): its value on the contiguous copy is the oracle here."""
    logits = np.random.default_rng(0).standard_normal((6, 2, 4)).astype(np.float32)
    want = torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(-1), torch.ones(5, dtype=torch.int64),
                                        (6, 5), (3, 2))
    x = ember.tensor(logits, requires_grad=True)
    got = ember.nn.functional.ctc_loss(x.log_softmax(-1), ember.tensor([1]).expand(5), (6, 5), (3, 2))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
    got.backward()
    xt = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.ctc_loss(xt.log_softmax(-1), torch.ones(5, dtype=torch.int64), (6, 5), (3, 2)).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
