"""``torch._dynamo.exc``: the exceptions ``torch.compile`` raises that scripts catch by name."""


class TorchDynamoException(RuntimeError):
    """The base of the compiler's errors (a RuntimeError, as in PyTorch)."""


class InvalidBackend(TorchDynamoException):
    """``torch.compile(backend=name)`` with a name no backend is registered under."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for available backends.")
