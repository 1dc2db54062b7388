"""``torch._subclasses``: PyTorch's tensor subclasses for tracing (fake tensors); ember has none, so only the
query libraries ask before taking a real-tensor path (kornia's distance_transform) is here."""
