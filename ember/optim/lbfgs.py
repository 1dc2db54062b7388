"""L-BFGS (after minFunc), with PyTorch's optional strong-Wolfe line search; ``step`` needs a closure.

Directions and gradients are flat NumPy arrays; the scalars PyTorch keeps as 0-d tensors are NumPy
scalars of the params' dtype, so mixed arithmetic with Python floats rounds where PyTorch's does."""
import numpy as np

from ..ops import _fused
from ..tensor import Tensor
from ._checks import check_lr
from .optimizer import Optimizer, _closure_loss, _no_grad_step, _scalar

__all__ = ['LBFGS']


def _axpy(x, alpha, y):
    """``x.add_(y, alpha=alpha)`` as PyTorch computes it (alpha cast to the dtype, one fma), into ``x``."""
    dt = x.dtype
    x[...] = _fused.fma(dt.type(alpha), y, x, dt)

# the state entries a step leaves, in the order PyTorch adds them
_MEMORY = ('d', 't', 'old_dirs', 'old_stps', 'ro', 'H_diag', 'prev_flat_grad', 'prev_loss')


class LBFGS(Optimizer):
    """Implements the L-BFGS algorithm; one param group only, ``line_search_fn`` None or 'strong_wolfe'."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]['params']
        self._numel_cache = None

    def __setstate__(self, state):
        super().__setstate__(state)
        self._params = self.param_groups[0]['params']
        self._numel_cache = None

    def _numel(self):
        if self._numel_cache is None:
            self._numel_cache = sum(p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self):
        """All gradients as one new flat array (zeros for params without a gradient)."""
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad._data.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update):
        """``p += step_size * update[slice of p]`` for every param."""
        offset = 0
        for p in self._params:
            pa = p._data
            chunk = update[offset:offset + pa.size].reshape(pa.shape)
            _axpy(pa, step_size, chunk)
            p._bump()
            offset += pa.size

    def _clone_param(self):
        return [p._data.copy() for p in self._params]

    def _set_param(self, params_data):
        for p, data in zip(self._params, params_data):
            np.copyto(p._data, data)
            p._bump()

    def _directional_evaluate(self, closure, x, t, d):
        """The loss and flat gradient at ``x + t * d``; the params are put back to ``x``."""
        self._add_grad(t, d)
        loss = float(_closure_loss(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    @_no_grad_step
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` clears the gradients, computes the loss,
        calls ``backward`` and returns the loss. Returns the loss before the step."""
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault('func_evals', 0)
        state.setdefault('n_iter', 0)
        orig_loss = _closure_loss(closure)
        state['func_evals'] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= group['tolerance_grad']:
            return orig_loss
        memory = _unpack_state(state)
        _lbfgs_iterations(self, closure, group, state, memory, float(orig_loss), flat_grad)
        state.update(_pack_state(memory))
        return orig_loss


def _lbfgs_iterations(opt, closure, group, state, memory, loss, flat_grad):
    """The main loop of PyTorch's ``LBFGS.step``; ``memory`` holds d, t, the history and the previous
    gradient and loss, and is updated in place."""
    lr, max_iter, max_eval = _scalar(group['lr']), group['max_iter'], group['max_eval']
    tolerance_grad, tolerance_change = group['tolerance_grad'], group['tolerance_change']
    line_search_fn, history_size = group['line_search_fn'], group['history_size']
    m = memory
    scalar = flat_grad.dtype.type
    current_evals, n_iter = 1, 0
    while n_iter < max_iter:
        n_iter += 1
        state['n_iter'] += 1
        if state['n_iter'] == 1:
            m['d'] = -flat_grad
            m['old_dirs'], m['old_stps'], m['ro'] = [], [], []
            m['H_diag'] = 1
        else:
            state.setdefault('al', None)
            _update_direction(m, flat_grad, history_size)
        m['prev_flat_grad'] = flat_grad.copy()
        m['prev_loss'] = loss
        if state['n_iter'] == 1:
            t = min(1.0, scalar(1.0) / np.abs(flat_grad).sum()) * lr
        else:
            t = lr
        d = m['d']
        gtd = d.dtype.type(flat_grad.dot(d))
        if gtd > -tolerance_change:
            m['t'] = t
            break
        ls_func_evals = 0
        if line_search_fn is not None:
            if line_search_fn != 'strong_wolfe':
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = opt._clone_param()

            def obj_func(x, step, direction):
                return opt._directional_evaluate(closure, x, step, direction)
            loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                              max_ls=max_eval - current_evals)
            opt._add_grad(t, d)
            opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        else:
            opt._add_grad(t, d)
            opt_cond = False
            if n_iter != max_iter:
                loss = float(_closure_loss(closure))
                flat_grad = opt._gather_flat_grad()
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                ls_func_evals = 1
        m['t'] = t
        current_evals += ls_func_evals
        state['func_evals'] += ls_func_evals
        if (n_iter == max_iter or current_evals >= max_eval or opt_cond
                or np.abs(np.multiply(d, t, dtype=d.dtype)).max() <= tolerance_change
                or abs(loss - m['prev_loss']) < tolerance_change):
            break


def _update_direction(m, flat_grad, history_size):
    """Add the last (y, s) pair to the history (if curvature allows) and compute the new direction with
    the two-loop recursion."""
    y = flat_grad - m['prev_flat_grad']
    s = np.multiply(m['d'], m['t'], dtype=flat_grad.dtype)
    scalar = flat_grad.dtype.type
    ys = scalar(y.dot(s))
    if ys > 1e-10:
        if len(m['old_dirs']) == history_size:
            for key in ('old_dirs', 'old_stps', 'ro'):
                m[key].pop(0)
        m['old_dirs'].append(y)
        m['old_stps'].append(s)
        m['ro'].append(scalar(1.0) / ys)
        m['H_diag'] = ys / scalar(y.dot(y))
    old_dirs, old_stps, ro = m['old_dirs'], m['old_stps'], m['ro']
    if m.get('al') is None:
        m['al'] = [None] * history_size
    al = m['al']
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = scalar(old_stps[i].dot(q)) * ro[i]
        _axpy(q, -al[i], old_dirs[i])
    r = np.multiply(q, m['H_diag'], dtype=q.dtype)
    for i in range(len(old_dirs)):
        be_i = scalar(old_dirs[i].dot(r)) * ro[i]
        _axpy(r, al[i] - be_i, old_stps[i])
    m['d'] = r


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search for a step ``t`` satisfying the strong Wolfe conditions (bracketing, then zoom)."""
    scalar = d.dtype.type
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = scalar(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = scalar(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    return _zoom(obj_func, x, d, f, gtd, c1, c2, tolerance_change, max_ls, d_norm, done, ls_iter,
                 ls_func_evals, bracket, bracket_f, bracket_g, bracket_gtd)


def _zoom(obj_func, x, d, f, gtd, c1, c2, tolerance_change, max_ls, d_norm, done, ls_iter, ls_func_evals,
          bracket, bracket_f, bracket_g, bracket_gtd):
    """Shrink the bracket by cubic interpolation until a point satisfies the strong Wolfe conditions."""
    scalar = d.dtype.type
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                               bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = scalar(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _unpack(value):
    """A state value as the loop uses it: tensors as arrays (0-d ones as NumPy scalars), lists walked."""
    if isinstance(value, Tensor):
        return value._data[()] if value.dim() == 0 else value._data
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value


def _pack(value):
    """A loop value as PyTorch stores it in the state: arrays and NumPy scalars as tensors."""
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor._make(np.array(value))
    if isinstance(value, list):
        return [_pack(v) for v in value]
    return value


def _unpack_state(state):
    """The loop's working copy of the state (``al`` included once an iteration has made it)."""
    return {k: _unpack(state.get(k)) for k in _MEMORY + ('al',)}


def _pack_state(memory):
    """The state entries to store after a step, in PyTorch's order."""
    packed = {k: _pack(memory[k]) for k in _MEMORY}
    if memory['al'] is not None:
        packed['al'] = _pack(memory['al'])
    return packed
