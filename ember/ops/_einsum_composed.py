"""einsum as PyTorch composes it from tensor ops (diagonal, unsqueeze, permute, sum, bmm, mul, view), so that a
result that needs a gradient gets PyTorch's grad_fn and the gradients its decomposition's autograd gives, and
autocast reaches the bmm (the lower-precision cast) while the sums and products keep their dtypes.

Labels are numbered as PyTorch's (A-Z 0-25, a-z 26-51); the dims an ellipsis covers are 52 + j. Every operand is
aligned to (output dims, then the ellipsis's if not in the output, then the summed labels in label order) and the
operands contracted left to right (torch.backends.opt_einsum is never available in ember)."""

import math

_ELL = 52


def _label(c):
    return ord(c) - ord('A') if c.isupper() else ord(c) - ord('a') + 26


def _tokens(spec, ell_dims):
    """An operand's (or the output's) subscripts as label numbers; '...' as ``ell_dims`` (the trailing ones)."""
    out = []
    head, dots, tail = spec.partition('...')
    out += [_label(c) for c in head]
    if dots:
        out += ell_dims
    out += [_label(c) for c in tail]
    return out


def _align(equation, shapes):
    """(each operand's labels, the aligned label order, the number of output dims)."""
    eq = equation.replace(' ', '')
    lhs, arrow, rhs = eq.partition('->')
    ins = lhs.split(',')
    ell_n = max([len(sh) - len(s.replace('...', '')) for s, sh in zip(ins, shapes) if '...' in s], default=0)
    ell = [_ELL + j for j in range(ell_n)]
    subs = []
    for s, sh in zip(ins, shapes):
        k = len(sh) - len(s.replace('...', '')) if '...' in s else 0
        subs.append(_tokens(s, ell[ell_n - k:] if k else []))
    count = {}
    for s in subs:
        for t in s:
            if t < _ELL:
                count[t] = count.get(t, 0) + 1
    if arrow:
        order = _tokens(rhs, ell)
        n_out = len(order)
        if '...' not in rhs:
            order += ell
    else:
        order = ell + sorted(t for t, n in count.items() if n == 1)
        n_out = len(order)
    order += sorted(t for t in count if t not in order)
    return subs, order, n_out


def _aligned(op, labels, order):
    """One operand with its repeated labels' diagonals taken, missing labels unsqueezed, dims permuted to ``order``."""
    pos = {}
    dim = 0
    for t in labels:
        if t in pos:
            op = op.diagonal(0, pos[t], dim).movedim(-1, pos[t])
        else:
            pos[t] = dim
            dim += 1
    perm = []
    for t in order:
        if t not in pos:
            op = op.unsqueeze(dim)
            pos[t] = dim
            dim += 1
        perm.append(pos[t])
    return op.permute(perm)


def _sumproduct_pair(left, right, sum_dims):
    """``(left * right).sum(sum_dims, keepdim=True)`` as PyTorch's einsum computes it: dims only one side has
    summed first, then one bmm of (both, left only, summed) by (both, summed, right only), viewed and permuted
    back; PyTorch 2.13 runs bmm(right, left) where the right-only dims start before and end before the left-only."""
    from .blas import bmm
    if not sum_dims:
        return left * right
    lro, lo, ro = [], [], []
    sizes = {}
    for i in range(left.dim()):
        sl, sr = left.shape[i] != 1, right.shape[i] != 1
        if i in sum_dims:
            if sl and not sr:
                left = left.sum(i, True)
            elif sr and not sl:
                right = right.sum(i, True)
        elif sl and sr:
            lro.append(i)
        elif sl:
            lo.append(i)
        else:
            ro.append(i)
        sizes[i] = max(left.shape[i], right.shape[i])
    n_b, n_l, n_s, n_r = (math.prod(sizes[i] for i in g) for g in (lro, lo, sum_dims, ro))
    swap = bool(lo and ro and min(ro) < min(lo) and max(lo) > max(ro))
    if swap:
        a = right.permute(lro + ro + sum_dims + lo).reshape(n_b, n_r, n_s)
        b = left.permute(lro + sum_dims + lo + ro).reshape(n_b, n_s, n_l)
        got = lro + ro + sum_dims + lo
    else:
        a = left.permute(lro + lo + sum_dims + ro).reshape(n_b, n_l, n_s)
        b = right.permute(lro + sum_dims + ro + lo).reshape(n_b, n_s, n_r)
        got = lro + lo + sum_dims + ro
    r = bmm(a, b).view([1 if i in sum_dims else sizes[i] for i in got])
    return r.permute(sorted(range(len(got)), key=got.__getitem__))


def einsum_composed(equation, operands):
    """PyTorch's einsum of ``operands`` by ember's tensor ops (the equation already checked by einsum)."""
    subs, order, n_out = _align(equation, [tuple(o.shape) for o in operands])
    ops = [_aligned(o, s, order) for o, s in zip(operands, subs)]
    n = len(order)
    counts = [sum(o.shape[d] != 1 for o in ops) for d in range(n)]
    while len(ops) > 1:
        a, b = ops[0], ops[1]
        sum_dims, a_sum, b_sum = [], [], []
        for d in range(n_out, n):
            if a.shape[d] != 1 and b.shape[d] != 1:
                counts[d] -= 1
                if counts[d] == 1:
                    sum_dims.append(d)
                    counts[d] = 0
            elif counts[d] == 1:
                if a.shape[d] != 1:
                    a_sum.append(d)
                    counts[d] = 0
                elif b.shape[d] != 1:
                    b_sum.append(d)
                    counts[d] = 0
        if a_sum:
            a = a.sum(a_sum, True)
        if b_sum:
            b = b.sum(b_sum, True)
        ops = [_sumproduct_pair(a, b, sum_dims)] + ops[2:]
    r = ops[0]
    if n > n_out:
        if len(operands) > 1:
            return r.view(list(r.shape[:n_out]))
        return r.sum(list(range(n_out, n)))
    return r
