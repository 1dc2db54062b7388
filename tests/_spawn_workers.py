"""Targets for processes that tests start with 'spawn': a spawned child imports the target's module, and
this one imports only ember (a test module would import torch too, slowly)."""
import ember


def add_one(model, lock):
    """Add 1 to every parameter of ``model`` in place."""
    with lock, ember.no_grad():
        for p in model.parameters():
            p.add_(1.0)


def add_one_to_queued(queue, done):
    """Add 1 in place to the tensor taken from ``queue``; put whether it arrived shared on ``done``."""
    t = queue.get()
    with ember.no_grad():
        t.add_(1.0)
    done.put(t.is_shared())
