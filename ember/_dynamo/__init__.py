"""``torch._dynamo``: importable for scripts that tune ``torch.compile``. ember has no compiler
(``torch.compile`` returns functions as given and modules wrapped, see eval_frame), so the settings here are kept and read back but change
nothing; an unknown setting raises AttributeError as PyTorch's config does."""
import functools

from .._config_module import ConfigModule

__all__ = ['config', 'assume_constant_result', 'reset', 'disable', 'is_compiling', 'graph_break', 'allow_in_graph', 'mark_dynamic',
           'mark_static', 'list_backends']


# The settings scripts commonly touch, with PyTorch 2.13's defaults.
config = ConfigModule('ember._dynamo.config', 'torch._dynamo.config', {
    'suppress_errors': False, 'cache_size_limit': 8, 'recompile_limit': 8, 'verbose': False,
    'capture_scalar_outputs': False, 'automatic_dynamic_shapes': True, 'optimize_ddp': True,
    'assume_static_by_default': True, 'accumulated_cache_size_limit': 256, 'capture_dynamic_output_shape_ops': False,
    'compiled_autograd': False, 'specialize_int': False, 'dynamic_shapes': True, 'guard_nn_modules': True,
    'log_compilation_metrics': True})


def reset():
    """Forget compiled code (ember compiles nothing)."""


def list_backends(exclude_tags=('debug', 'experimental')):
    """The backend names ``torch.compile`` accepts, sorted, less those with a tag in ``exclude_tags`` (PyTorch
    tags its debugging backends 'debug' and openxla_eval 'experimental')."""
    from .eval_frame import BACKEND_TAGS
    excluded = set(exclude_tags or ())
    return sorted(name for name, tags in BACKEND_TAGS.items() if not excluded.intersection(tags))


def is_compiling():
    return False


def graph_break():
    """Force a graph break (nothing to break here)."""


def disable(fn=None, recursive=True, *, reason=None, wrapping=True):
    """Run ``fn`` uncompiled: in ember everything runs uncompiled, so ``fn`` comes back as it is."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason, wrapping=wrapping)
    return fn


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    """Mark ``fn`` as returning a constant a compiled graph may bake in; ember runs eagerly, so it is only
    marked (``fn._dynamo_marked_constant``, as PyTorch does) and returned."""
    fn._dynamo_marked_constant = True
    return fn


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None, specialize_on=None):
    """Mark a dimension as dynamic for the compiler (there is none)."""


def mark_static(t, index=None):
    """Mark a dimension as static for the compiler (there is none)."""


from .eval_frame import OptimizedModule  # noqa: E402 (torch._dynamo's: what torch.compile(module) returns)
