"""``RemovableHandle`` (exported as ``ember.utils.hooks.RemovableHandle``): defined in this leaf module, which
imports nothing of ember's, so that ``autograd.graph`` can derive the handle of tensor and node hooks from it while
``ember.utils`` is not importable yet."""
import collections
import weakref

from ._torch_names import TorchNamedType

__all__ = ['RemovableHandle']


class RemovableHandle(metaclass=TorchNamedType):     # (printed as <class 'torch.utils.hooks.RemovableHandle'>)
    """A handle that removes its entry (by id) from the hook dicts it was registered in."""

    __module__ = 'ember.utils.hooks'   # its public home (reprs and pickles name it there)

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def __repr__(self):
        """PyTorch's default repr, for this class and the tensor-hook handle derived from it (PyTorch returns a
        RemovableHandle there too): a notebook cell ending in ``register_forward_hook(...)`` shows it."""
        return f'<torch.utils.hooks.RemovableHandle object at {hex(id(self))}>'

    def __getstate__(self):
        """The dicts themselves, not weak references to them: a deep copy of a module then gives a handle that
        removes the hook from the copy's dicts (PyG's lazy Linear removes its init hook so, after to_hetero
        copied it); a weak reference would be copied as is and remove the original's."""
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        hooks, self.id = state[0], state[1]
        self.hooks_dict_ref = weakref.ref(hooks if hooks is not None else collections.OrderedDict())
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in (state[2] if len(state) > 2 else ()) if d is not None)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
