"""``torch.optim.swa_utils``: weight averaging (SWA and EMA) of a model's parameters, the SWALR scheduler and
``update_bn``, which recomputes BatchNorm statistics for the averaged weights."""
import copy as _copy
import itertools as _itertools
import math as _math

from .._dtype import int64 as _int64
from ..autograd.grad_mode import no_grad as _no_grad
from ..nn.modules.module import Module as _Module
from ..ops.creation import tensor as _tensor
from ..tensor import Tensor as _Tensor
from .lr_scheduler import LRScheduler as _LRScheduler, _per_group

__all__ = ['AveragedModel', 'update_bn', 'SWALR', 'get_ema_multi_avg_fn', 'get_swa_multi_avg_fn', 'get_ema_avg_fn',
           'get_swa_avg_fn']


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f'Invalid decay value {decay} provided. Please provide a value in [0,1] range.')


def get_ema_multi_avg_fn(decay=0.999):
    """``fn(ema_params, params, n)``: each EMA parameter moves to ``decay * ema + (1 - decay) * param``, in place."""
    _check_decay(decay)

    @_no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].is_floating_point():
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """``fn(avg_params, params, n)``: the running equal-weight average of ``n + 1`` models, in place."""
    @_no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].is_floating_point():
            weight = 1 / (num_averaged + 1)
            weight = weight.item() if isinstance(weight, _Tensor) else weight
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.lerp_(p_model, weight)
        else:
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                diff = p_model - p_avg
                if isinstance(num_averaged, _Tensor):
                    p_avg.addcdiv_(diff, num_averaged + 1)
                else:
                    p_avg.add_(diff, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``fn(ema_param, param, n)`` returning ``decay * ema + (1 - decay) * param``."""
    _check_decay(decay)

    @_no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """``fn(avg_param, param, n)`` returning the equal-weight average of ``n + 1`` models."""
    @_no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(_Module):
    """A copy of ``model`` whose parameters (and buffers, with ``use_buffers``) are averaged over the models
    passed to ``update_parameters``: equally (SWA) or by ``avg_fn``/``multi_avg_fn`` (e.g. EMA)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError('Only one of avg_fn and multi_avg_fn should be provided')
        self.module = _copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer('n_averaged', _tensor(0, dtype=_int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model):
        """(averaged, model) tensors, detached: parameters, and buffers too with ``use_buffers``."""
        if self.use_buffers:
            mine = _itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = _itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        return [(a.detach(), b.detach()) for a, b in zip(mine, theirs)]

    def update_parameters(self, model):
        """Average ``model``'s current weights in (the first call copies them)."""
        pairs = self._pairs(model)
        if int(self.n_averaged) == 0:
            for mine, theirs in pairs:
                mine.copy_(theirs)
        elif self.avg_fn is not None and self.multi_avg_fn is None:
            for mine, theirs in pairs:
                mine.copy_(self.avg_fn(mine, theirs, self.n_averaged))
        else:
            for group in _by_dtype(pairs):
                mine, theirs = [a for a, _ in group], [b for _, b in group]
                if self.multi_avg_fn is not None:
                    self.multi_avg_fn(mine, theirs, self.n_averaged)
                else:   # on CPU PyTorch averages tensor by tensor with get_swa_avg_fn
                    avg = get_swa_avg_fn()
                    for a, b in group:
                        a.copy_(avg(a, b, self.n_averaged))
        if not self.use_buffers:
            for mine, theirs in zip(self.module.buffers(), model.buffers()):
                mine.detach().copy_(theirs.detach())
        self.n_averaged += 1


def _by_dtype(pairs):
    """The (averaged, model) pairs grouped by dtype, in first-seen order (as PyTorch groups its foreach calls)."""
    groups = {}
    for a, b in pairs:
        groups.setdefault(a.dtype, []).append((a, b))
    return list(groups.values())


@_no_grad()
def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running statistics in one pass over ``loader`` (a cumulative average)."""
    from ..nn.modules.batchnorm import _BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(_LRScheduler):
    """Anneal each group's lr to its ``swa_lr`` over ``anneal_epochs`` epochs ('cos' or 'linear'), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy='cos', last_epoch=-1):
        for lr, group in zip(_per_group('swa_lr', optimizer, swa_lr), optimizer.param_groups):
            group['swa_lr'] = lr
        if anneal_strategy not in ('cos', 'linear'):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f'anneal_epochs must be equal or greater than 0, got {anneal_epochs}')
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - _math.cos(_math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr this schedule started from, recovered from the current one (so other schedulers may chain)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        self._warn_get_lr()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g['lr'], g['swa_lr'], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g['swa_lr'] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == 'cos' else self._linear_anneal

    def state_dict(self):
        """Every attribute but the optimizer and the annealing function (rebuilt from its name on load)."""
        return {k: v for k, v in self.__dict__.items() if k not in ('optimizer', 'anneal_func')}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
