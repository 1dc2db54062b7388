"""``torch.fx.experimental``: the parts of PyTorch's tracing internals that libraries query by name."""
