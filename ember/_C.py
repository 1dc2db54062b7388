"""``torch._C``: the names of PyTorch's C extension that Python programs reach for directly. torchdiffeq's
implicit Runge-Kutta solvers catch ``torch._C._LinAlgError`` (the class ``torch.linalg.LinAlgError`` is)."""


def __getattr__(name):
    """``_LinAlgError`` from ember's linear algebra (loaded on first use); any other name is one ember lacks."""
    if name == '_LinAlgError':
        from ._linalg import LinAlgError
        return LinAlgError
    from .aliasing import missing_attribute
    missing_attribute(__name__, name)
