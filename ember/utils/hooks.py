"""``RemovableHandle``: what hook registrations return; ``remove()`` unregisters the hook (defined in
``ember._hooks``, which autograd's graph imports before ``ember.utils`` can be)."""
from .._hooks import RemovableHandle

__all__ = ['RemovableHandle']
