"""``torch.utils.module_tracker``: which modules are running, forward or backward (FlopCounterMode's per-module
counts read it)."""
import weakref

from ..autograd.grad_mode import GRAD

__all__ = ['ModuleTracker']


class ModuleTracker:
    """While entered, ``parents`` holds "Global" and the names of the modules whose forward (or backward) is
    running: the first module seen by its class name, its submodules by their path below it ("MLP.lin1")."""

    def __init__(self):
        self.parents = {'Global'}
        self._known_modules = weakref.WeakKeyDictionary()
        self._seen_modules = weakref.WeakSet()
        self._has_callback = False
        self._hooks = []

    @property
    def is_bw(self):
        """Whether a backward pass is running."""
        return GRAD.__dict__.get('callbacks', False) is not False

    def _maybe_set_engine_callback(self):
        """Reset ``parents`` once the backward pass now running ends."""
        if self._has_callback:
            return
        from ..autograd.engine import queue_callback

        def callback():
            self.parents = {'Global'}
            self._has_callback = False
        queue_callback(callback)
        self._has_callback = True

    def _get_mod_name(self, mod):
        if mod not in self._known_modules:
            self._known_modules[mod] = type(mod).__name__
        name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for child_name, child in mod.named_children():
                self._known_modules[child] = f'{name}.{child_name}'
                self._get_mod_name(child)
            self._seen_modules.add(mod)
        return name

    def _get_append_fn(self, name, is_bw):
        def fn(*args):
            if is_bw:
                self._maybe_set_engine_callback()
            self.parents.add(name)
        return fn

    def _get_pop_fn(self, name, is_bw):
        def fn(*args):
            self.parents.discard(name)
        return fn

    def _grad_hook(self, tensors, fn):
        from ..autograd.graph import register_multi_grad_hook
        from ._pytree import tree_flatten
        from ..tensor import Tensor
        tensors = [a for a in tree_flatten(tensors)[0] if isinstance(a, Tensor) and a.requires_grad]
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, fn))

    def _fw_pre_hook(self, mod, input):
        name = self._get_mod_name(mod)
        self._get_append_fn(name, False)()
        self._grad_hook(input, self._get_pop_fn(name, True))

    def _fw_post_hook(self, mod, input, output):
        name = self._get_mod_name(mod)
        self._get_pop_fn(name, False)()
        self._grad_hook(output, self._get_append_fn(name, True))

    def __enter__(self):
        from ..nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
        self._fw_pre_handle = register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *args):
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
