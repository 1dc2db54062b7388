"""``torch.distributed.fsdp.wrap``: the auto-wrap policies, predicates that say which submodules FSDP would wrap
(diffusers' training_utils and accelerate's FSDP plugin import them). They answer as PyTorch's; ember itself never
wraps a module in FSDP."""
from ...nn.modules.activation import MultiheadAttention
from ...nn.modules.container import ModuleDict, ModuleList

__all__ = ["always_wrap_policy", "lambda_auto_wrap_policy", "transformer_auto_wrap_policy",
           "size_based_auto_wrap_policy"]


def always_wrap_policy(*args, **kwargs):
    """Wrap every submodule."""
    return True


def lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn):
    """Recurse everywhere; wrap the modules for which ``lambda_fn(module)`` is true."""
    return True if recurse else lambda_fn(module)


def transformer_auto_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls):
    """Recurse everywhere; wrap the instances of ``transformer_layer_cls`` (a set of classes)."""
    return True if recurse else isinstance(module, tuple(transformer_layer_cls))


def size_based_auto_wrap_policy(module, recurse, nonwrapped_numel, min_num_params=int(1e8), force_leaf_modules=None,
                                exclude_wrap_modules=None):
    """Wrap (and recurse into) modules holding at least ``min_num_params`` unwrapped parameters, except the classes
    kept as leaves (not recursed into) or excluded (not wrapped)."""
    leaves = size_based_auto_wrap_policy.FORCE_LEAF_MODULES if force_leaf_modules is None else force_leaf_modules
    excluded = (size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES if exclude_wrap_modules is None
                else exclude_wrap_modules)
    large = nonwrapped_numel >= min_num_params
    return large and not isinstance(module, tuple(leaves if recurse else excluded))


size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES = {ModuleList, ModuleDict}
size_based_auto_wrap_policy.FORCE_LEAF_MODULES = {MultiheadAttention}
