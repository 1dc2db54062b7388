"""NAdam: Adam with Nesterov momentum (Dozat), with PyTorch's momentum decay schedule."""
import numpy as np

from ..ops._vml_sqrt import sqrt as _sqrt
from ..tensor import Tensor
from ._checks import check_betas, check_lr, check_nonnegative
from .adam import _lerp, _steps_as_tensors
from .optimizer import (_with_decay, _addcmul_, _as_real, _CAPTURABLE_NO_XLA, Optimizer, _functional_checks,
                        _decay_, _no_grad_step, _step_groups, _scalar, _step_tensor)

__all__ = ['NAdam', 'nadam']


class NAdam(Optimizer):
    """Implements the NAdam algorithm (``decoupled_weight_decay=True`` gives NAdamW)."""
    _sparse_error = 'NAdam does not support sparse gradients'   # raised for a sparse gradient
    _capturable_foreach = ('params, mu_products, and state_steps', _CAPTURABLE_NO_XLA)   # the foreach path's wording

    _capturable_what = 'params, mu_products and state_steps'

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (('maximize', False), ('foreach', None), ('capturable', False),
                               ('differentiable', False), ('decoupled_weight_decay', False)):
                group.setdefault(key, value)
            _steps_as_tensors(self.state, group)
            for p in group['params']:
                st = self.state.get(p)
                if st and not hasattr(st['mu_product'], '_data'):
                    st['mu_product'] = _step_tensor(float(st['mu_product']))

    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        return _step_groups(self, closure, _nadam_group)


def _nadam_state(state, p):
    """The param's state, created on its first step: step, the product of the mus, zeroed moments."""
    st = state[p]
    if len(st) == 0:
        st['step'] = _step_tensor()
        st['mu_product'] = _step_tensor(1.0)
        st['exp_avg'] = Tensor._make(np.zeros_like(p._data))
        st['exp_avg_sq'] = Tensor._make(np.zeros_like(p._data))
    return st


def _nadam_group(state, group):
    """Update every param of ``group`` that has a gradient (through ``nadam``, PyTorch's functional form)."""
    params, grads, exp_avgs, exp_avg_sqs, mu_products, steps = [], [], [], [], [], []
    for p in group['params']:
        if p._grad is None:
            continue
        st = _nadam_state(state, p)
        params.append(p)
        grads.append(p._grad)
        exp_avgs.append(st['exp_avg'])
        exp_avg_sqs.append(st['exp_avg_sq'])
        mu_products.append(st['mu_product'])
        steps.append(st['step'])
    beta1, beta2 = group['betas']
    nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps,
          decoupled_weight_decay=group['decoupled_weight_decay'], foreach=group['foreach'],
          maximize=group['maximize'], beta1=beta1,
          beta2=beta2, lr=group['lr'], weight_decay=group['weight_decay'], momentum_decay=group['momentum_decay'],
          eps=group['eps'])


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, decoupled_weight_decay=False,
          foreach=None, capturable=False, differentiable=False, has_complex=False, maximize=False, *, beta1, beta2,
          lr, weight_decay, momentum_decay, eps):
    """PyTorch's functional NAdam (torch.optim.nadam.nadam): one step of each param and its state (``foreach``: the
    rounding of PyTorch's _foreach_ form, whose denominator is sqrt(v) / sqrt(bc2), not sqrt(v / bc2))."""
    _functional_checks(state_steps, differentiable)
    if not all(isinstance(t, Tensor) for t in mu_products):
        raise RuntimeError('API has changed, `mu_products` argument must contain a list of singleton tensors')
    lr, wd = _scalar(lr), weight_decay
    lrs = float(lr) if foreach else lr   # _multi_tensor_nadam's step sizes take lr.item(), in float64
    for p, g, m_t, v_t, mu_t, s_t in zip(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps):
        pa, ga = _as_real(p._data), _as_real(g._data)
        if maximize:
            ga = np.negative(ga)
        step_arr = s_t._data
        step_arr += 1
        step = float(step_arr)
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:
            if decoupled_weight_decay:
                _decay_(pa, lr, wd)
            else:
                ga = _with_decay(ga, pa, wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_arr = mu_t._data
        mu_arr *= mu
        mu_product = float(mu_arr)
        m, v = _as_real(m_t._data), _as_real(v_t._data)
        tmp = np.empty_like(pa)
        _lerp(m, ga, 1 - beta1, tmp)
        np.multiply(v, beta2, out=v)
        _addcmul_(v, ga, ga, 1 - beta2, tmp)
        if foreach:     # _multi_tensor_nadam: sqrt(v) / sqrt(bias_correction2)
            denom = _sqrt(v, out=np.empty_like(pa))
            np.divide(denom, bias_correction2 ** 0.5, out=denom)
        else:
            denom = np.divide(v, bias_correction2, out=np.empty_like(pa))
            _sqrt(denom, out=denom)
        np.add(denom, eps, out=denom)
        cast = pa.dtype.type    # (addcdiv's value cast to the param's dtype: a float64 lr tensor's too)
        np.multiply(ga, cast(-lrs * (1.0 - mu) / (1.0 - mu_product)), out=tmp)
        np.add(pa, np.divide(tmp, denom, out=tmp), out=pa)
        np.multiply(m, cast((-lrs * mu_next) / (1.0 - mu_product * mu_next)), out=tmp)
        np.add(pa, np.divide(tmp, denom, out=tmp), out=pa)
        p._bump()
