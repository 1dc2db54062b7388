"""``torch.amp.GradScaler``: loss scaling with PyTorch's schedule (scale, unscale and inf check, skipped
steps, growth and backoff). On 'cuda' it is disabled with PyTorch's warning, as on a CPU-only build."""
import warnings
from collections import abc

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ['GradScaler', 'OptState']

READY, UNSCALED, STEPPED = 'READY', 'UNSCALED', 'STEPPED'
OptState = type('OptState', (), {'READY': READY, 'UNSCALED': UNSCALED, 'STEPPED': STEPPED})
_FIX = 'This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration.'


def _fresh_state():
    return {'stage': READY, 'found_inf_per_device': {}}


class GradScaler:
    """Multiply the loss by a scale, unscale gradients before the step, skip steps whose gradients are
    not finite and adapt the scale (backoff on inf/NaN, growth after ``growth_interval`` good steps)."""

    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == 'cuda' and enabled:
            warnings.warn('torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.',
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError('The growth factor must be > 1.0.')
            if backoff_factor >= 1.0:
                raise AssertionError('The backoff factor must be < 1.0.')
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = {}

    def _state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def _check_scale_growth_tracker(self, funcname):
        if self._scale is None:
            raise AssertionError(f'Attempted {funcname} but _scale is None.  ' + _FIX)

    def _lazy_init(self):
        self._scale = Tensor._make(np.array(self._init_scale, np.float32))
        self._growth_tracker = int(self._init_growth_tracker)

    def scale(self, outputs):
        """``outputs`` (a tensor, or an iterable of them) times the scale; unchanged when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init()
            return outputs * self._scale
        if isinstance(outputs, abc.Iterable):
            scaled = map(self.scale, outputs)
            return type(outputs)(scaled) if isinstance(outputs, (list, tuple)) else scaled
        raise ValueError('outputs must be a Tensor or an iterable of Tensors')

    def unscale_(self, optimizer):
        """Divide the gradients of ``optimizer``'s parameters by the scale and record whether any is inf/NaN."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker('unscale_')
        state = self._state(optimizer)
        if state['stage'] is UNSCALED:
            raise RuntimeError('unscale_() has already been called on this optimizer since the last update().')
        if state['stage'] is STEPPED:
            raise RuntimeError('unscale_() is being called after step().')
        inv_scale = np.float32(1.0 / np.float64(self._scale._data))
        found_inf, grads = 0.0, 0
        with no_grad():
            for group in optimizer.param_groups:
                for param in group['params']:
                    if param.grad is None:
                        continue
                    if param.grad.dtype.name == 'float16':
                        raise ValueError('Attempting to unscale FP16 gradients.')
                    if param.grad.is_sparse:    # nn.Embedding(sparse=True)'s: its values, as PyTorch's
                        _unscale_sparse(param.grad, inv_scale)
                        found_inf = found_inf or float(not np.isfinite(param.grad._vals).all())
                        grads += 1
                        continue
                    g = param.grad._data
                    if not np.isfinite(g).all():
                        found_inf = 1.0
                    np.multiply(g, g.dtype.type(inv_scale), out=g)
                    param.grad._bump()
                    grads += 1
        state['found_inf_per_device'] = {'cpu': found_inf} if grads else {}
        state['stage'] = UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``unscale_`` (unless done already), then ``optimizer.step()`` unless a gradient was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError('Closure use is not currently supported if GradScaler is enabled.')
        self._check_scale_growth_tracker('step')
        state = self._state(optimizer)
        if state['stage'] is STEPPED:
            raise RuntimeError('step() has already been called since the last update().')
        if state['stage'] is READY:
            self.unscale_(optimizer)
        if not state['found_inf_per_device']:
            raise AssertionError('No inf checks were recorded for this optimizer.')
        retval = None
        if not sum(state['found_inf_per_device'].values()):
            retval = optimizer.step(*args, **kwargs)
        state['stage'] = STEPPED
        return retval

    def update(self, new_scale=None):
        """Back the scale off after an inf/NaN step, grow it after ``growth_interval`` good steps, or set
        ``new_scale``; then start a new iteration."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker('update')
        if new_scale is not None:
            self._set_scale(new_scale)
        else:
            found = [f for s in self._per_optimizer_states.values() for f in s['found_inf_per_device'].values()]
            if not found:
                raise AssertionError('No inf checks were recorded prior to update.')
            self._update_scale(sum(found) > 0)
        self._per_optimizer_states = {}

    def _set_scale(self, new_scale):
        if isinstance(new_scale, float):
            self._scale._data[...] = new_scale
            return
        if not isinstance(new_scale, Tensor) or new_scale.numel() != 1 or new_scale.requires_grad:
            raise AssertionError('new_scale should be a float or a 1-element torch.cuda.FloatTensor or '
                                 'torch.FloatTensor with requires_grad=False.')
        self._scale._data[...] = new_scale._data.reshape(())

    def _update_scale(self, found_inf):
        """PyTorch's ``_amp_update_scale_`` in float32."""
        scale = self._scale._data
        if found_inf:
            scale[...] = scale * np.float32(self._backoff_factor)
            self._growth_tracker = 0
            return
        successful = self._growth_tracker + 1
        if successful == self._growth_interval:
            grown = scale * np.float32(self._growth_factor)
            if np.isfinite(grown):
                scale[...] = grown
            successful = 0
        self._growth_tracker = successful

    def get_scale(self):
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """The scale, factors, interval and growth tracker (empty when disabled), as PyTorch's keys."""
        if not self._enabled:
            return {}
        return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                'backoff_factor': self._backoff_factor, 'growth_interval': self._growth_interval,
                '_growth_tracker': self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError('The source state dict is empty, possibly because it was saved from a disabled '
                               'instance of GradScaler.')
        self._init_scale = state_dict['scale']
        if self._scale is not None:
            self._scale._data[...] = state_dict['scale']
        self._growth_factor = state_dict['growth_factor']
        self._backoff_factor = state_dict['backoff_factor']
        self._growth_interval = state_dict['growth_interval']
        self._init_growth_tracker = state_dict['_growth_tracker']
        if self._growth_tracker is not None:
            self._growth_tracker = state_dict['_growth_tracker']


def _unscale_sparse(grad, inv_scale):
    """A sparse gradient's values times ``inv_scale`` (new values: a sparse tensor's parts are not written in
    place, see ember._sparse)."""
    grad._vals = np.multiply(grad._vals, grad._vals.dtype.type(inv_scale))
    grad._bump()
