"""``torch.export``: importable, refusing clearly. PyTorch's ``export`` traces a module with example inputs into an
ExportedProgram (an FX graph of ATen ops with guards on the input shapes, for AOT compilation and deployment);
ember has no operator tracer producing such graphs, so export, its loaders and program types refuse by name."""
from ..aliasing import unsupported_function

_WHY = ("PyTorch's export traces the module into an ExportedProgram, an FX graph of ATen operators for ahead-of-time "
        "compilation; ember runs modules eagerly and has no such tracer: call the module itself")

export = unsupported_function('torch.export.export', _WHY)
draft_export = unsupported_function('torch.export.draft_export', _WHY)
save = unsupported_function('torch.export.save', _WHY)
load = unsupported_function('torch.export.load', _WHY)
unflatten = unsupported_function('torch.export.unflatten', _WHY)
register_dataclass = unsupported_function('torch.export.register_dataclass', _WHY)


class ExportedProgram:
    """Stands for PyTorch's ExportedProgram (isinstance checks answer False); making one refuses."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f'torch.export.ExportedProgram is not supported by ember yet ({_WHY})')


class Dim:
    """Stands for PyTorch's dynamic dimension spec; making one refuses (export is not supported)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f'torch.export.Dim is not supported by ember yet ({_WHY})')
