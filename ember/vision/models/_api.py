"""Weights enums and the model registry of ``torchvision.models`` (``get_model``, ``list_models``...)."""
import fnmatch
import importlib
import inspect
import warnings
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable, Dict

__all__ = ['WeightsEnum', 'Weights', 'get_model', 'get_model_builder', 'get_model_weights', 'get_weight',
           'list_models', 'register_model']


@dataclass
class Weights:
    """A set of pretrained weights: where to download them, their preprocessing and their metadata."""
    url: str
    transforms: Callable
    meta: Dict[str, Any]

    def __eq__(self, other):
        """Compare ``partial`` transforms by content, so deep copies and unpickled enums stay equal."""
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        a, b = self.transforms, other.transforms
        if isinstance(a, partial) and isinstance(b, partial):
            return (a.func, a.args, a.keywords) == (b.func, b.args, b.keywords)
        return a == b


class WeightsEnum(Enum):
    """Parent of every model's weights enum (``ResNet18_Weights``); its values are ``Weights``."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: a member, its name as a string, or None."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + '.', '')]
            elif not isinstance(obj, cls):
                raise TypeError(f'Invalid Weight class provided; expected {cls.__name__} but received '
                                f'{obj.__class__.__name__}.')
        return obj

    def get_state_dict(self, *args, **kwargs):
        """Download (once, into the hub cache) and load these weights' state dict."""
        from ...hub import load_state_dict_from_url
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f'{self.__class__.__name__}.{self._name_}'

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


BUILTIN_MODELS = {}


def register_model(name=None):
    """Decorator that records a model builder under ``name`` (default: the function's name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def _as_list(filters):
    return [filters] if isinstance(filters, str) else list(filters)


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered models, optionally from one module and filtered by fnmatch patterns."""
    names = {k for k, fn in BUILTIN_MODELS.items()
             if module is None or fn.__module__.rsplit('.', 1)[0] == module.__name__}
    models = set().union(*(fnmatch.filter(names, f) for f in _as_list(include))) if include else names
    for pattern in _as_list(exclude) if exclude else ():
        models -= set(fnmatch.filter(names, pattern))
    return sorted(models)


def get_model_builder(name):
    """The builder function registered under ``name``."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f'Unknown model {name}') from None


def get_model(name, **config):
    """Build the model registered under ``name`` with ``config`` (``get_model('resnet18', weights=None)``)."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The weights enum class of a model builder (or of the model registered under ``name``)."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    enum = getattr(fn, '_weights_enum', None)
    if enum is None:
        raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the "
                         "typing info is correct.")
    return enum


def get_weight(name):
    """The weights enum member named like ``'ResNet50_Weights.IMAGENET1K_V1'``, looked up in ``models`` and its
    subpackages (``video``, ``segmentation``...) as torchvision looks."""
    try:
        enum_name, value_name = name.split('.')
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = importlib.import_module(__name__.rpartition('.')[0])
    packages = [models] + [m for _, m in inspect.getmembers(models, inspect.ismodule)
                           if getattr(m, '__file__', '').endswith('__init__.py')]
    for package in packages:
        enum = getattr(package, enum_name, None)
        if inspect.isclass(enum) and issubclass(enum, WeightsEnum):
            return enum[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param]`` to what the weights require, refusing a different value the caller gave."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} "
                             'instead.')
    else:
        kwargs[param] = new_value


def _legacy_pretrained(kwargs, weights, default, name):
    """Translate the pre-0.13 ``pretrained=True/False`` argument into ``weights``, warning as torchvision."""
    if 'pretrained' not in kwargs:
        return weights
    pretrained = kwargs.pop('pretrained')
    if pretrained and default is None:
        raise ValueError(f'No weights available for model {name}')
    warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                  "please use 'weights' instead.")
    if not pretrained:
        return weights
    warnings.warn("Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and "
                  'may be removed in the future. The current behavior is equivalent to passing '
                  f'`weights={default!r}`. You can also use `weights={type(default).__name__}.DEFAULT` to get '
                  'the most up-to-date weights.')
    return default


def builder(weights_enum, state_dict_hook=None, after_load=None, legacy='IMAGENET1K_V1'):
    """Decorator for a model builder taking ``weights``: registers it, records its weights enum, accepts the
    legacy ``pretrained=`` argument (meaning the member named ``legacy``), checks ``weights`` and fixes
    ``num_classes`` to the weights' classes.
    ``state_dict_hook`` maps the downloaded state dict to the model's keys (old file layouts);
    ``after_load(model, kwargs)`` adjusts the loaded model to the caller's arguments."""
    def wrap(fn):
        def build(*, weights=None, progress=True, **kwargs):
            default = weights_enum.__members__.get(legacy)
            weights = weights_enum.verify(_legacy_pretrained(kwargs, weights, default, fn.__name__))
            if weights is not None and weights.meta['categories'] is not None:
                _ovewrite_named_param(kwargs, 'num_classes', len(weights.meta['categories']))
            model = fn(weights=weights, **kwargs)
            if weights is not None:
                state_dict = weights.get_state_dict(progress=progress, check_hash=True)
                model.load_state_dict(state_dict if state_dict_hook is None else state_dict_hook(state_dict))
                if after_load is not None:
                    after_load(model, kwargs)
            return model
        build.__name__, build.__qualname__, build.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        build.__module__ = fn.__module__
        build._weights_enum = weights_enum
        return register_model()(build)
    return wrap
