"""``RemovableHandle`` (exported as ``ember.utils.hooks.RemovableHandle``): defined in this leaf module, which
imports nothing of ember's, so that ``autograd.graph`` can derive the handle of tensor and node hooks from it while
``ember.utils`` is not importable yet."""
import weakref

__all__ = ['RemovableHandle']


class RemovableHandle:
    """A handle that removes its entry (by id) from the hook dicts it was registered in."""

    __module__ = 'ember.utils.hooks'   # its public home (reprs and pickles name it there)

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
