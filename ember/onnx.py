"""``ember.onnx`` (``torch.onnx``): importable, so scripts that import it at the top run; exporting is not
supported by ember yet and says so when called."""
import enum

from .aliasing import unsupported_function

__all__ = ['export', 'is_in_onnx_export', 'register_custom_op_symbolic', 'unregister_custom_op_symbolic',
           'select_model_mode_for_export', 'OnnxExporterError', 'TrainingMode']

_DETAIL = 'ember cannot export ONNX graphs; save the state_dict and export from PyTorch'
export = unsupported_function('torch.onnx.export', _DETAIL)
register_custom_op_symbolic = unsupported_function('torch.onnx.register_custom_op_symbolic', _DETAIL)
unregister_custom_op_symbolic = unsupported_function('torch.onnx.unregister_custom_op_symbolic', _DETAIL)
select_model_mode_for_export = unsupported_function('torch.onnx.select_model_mode_for_export', _DETAIL)


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter (PyTorch's class, for ``except`` clauses)."""


class TrainingMode(enum.IntEnum):
    """PyTorch's export training modes."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    """False: ember never runs a model under an ONNX export."""
    return False
