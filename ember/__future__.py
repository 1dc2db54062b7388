"""``torch.__future__``: opt-in behaviours of ``nn.Module`` conversions (``.to()``, ``.float()``...).

With ``set_overwrite_module_params_on_conversion(True)`` a conversion puts new Parameter objects in the module
(PyTorch's future default); with ``set_swap_module_params_on_conversion(True)`` it swaps the converted values
into the existing objects with ``torch.utils.swap_tensors``. By default ember's conversions, as PyTorch's, keep
each Parameter object and give it the converted data."""

_overwrite_module_params_on_conversion = False
_swap_module_params_on_conversion = False


def set_overwrite_module_params_on_conversion(value):
    """Whether module conversions assign new Parameters instead of changing the existing ones."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion():
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value):
    """Whether module conversions (and ``load_state_dict``) swap new values into the existing Parameters."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion():
    return _swap_module_params_on_conversion
