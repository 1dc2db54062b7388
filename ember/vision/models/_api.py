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


def legacy_weights(kwargs, weights_param, pretrained_param, default, name):
    """torchvision's ``handle_legacy_interface`` for one weights parameter: ``pretrained_param=True`` (or a bool
    given as ``weights_param``) becomes ``default`` with its deprecation warnings, False becomes None."""
    missing = object()
    given = kwargs.get(weights_param, missing)
    if ((weights_param not in kwargs and pretrained_param not in kwargs) or isinstance(given, WeightsEnum)
            or (isinstance(given, str) and given != 'legacy') or given is None):
        return
    as_weights = given is not missing
    pretrained = kwargs.pop(weights_param) if as_weights else kwargs[pretrained_param]
    if pretrained and not isinstance(default, WeightsEnum):
        raise ValueError(f'No weights available for model {name}')
    chosen = default if pretrained else None
    if not as_weights:
        warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in the "
                      f"future, please use '{weights_param}' instead.")
    msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 and may "
           f'be removed in the future. The current behavior is equivalent to passing `{weights_param}={chosen}`.')
    if pretrained:
        msg += (f' You can also use `{weights_param}={type(chosen).__name__}.DEFAULT` to get the most up-to-date '
                'weights.')
    warnings.warn(msg)
    kwargs.pop(pretrained_param, None)
    kwargs[weights_param] = chosen


def _sequence_to_str(names):
    """``'a'``, ``'a' and 'b'``, ``'a', 'b', and 'c'``: parameter names as torchvision's warnings list them."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) < 3:
        return ' and '.join(quoted)
    return ', '.join(quoted[:-1]) + ', and ' + quoted[-1]


def keywords_from_positions(fn, args, kwargs):
    """torchvision's ``kwonly_to_pos_or_kw``: a builder's arguments given by position (pre-0.13 code's
    ``resnet18(True)``) named in its order, ``weights`` and ``progress`` first, with its deprecation warning."""
    if not args:
        return kwargs
    params = inspect.signature(fn).parameters.values()
    names = ['weights', 'progress'] + [p.name for p in params if p.name not in ('weights', 'progress')
                                       and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if len(args) > len(names):
        raise TypeError(f'{fn.__name__}() takes {len(names)} positional arguments but {len(args)} were given')
    given = dict(zip(names, args))
    warnings.warn(f'Using {_sequence_to_str(list(given))} as positional parameter(s) is deprecated since 0.13 and may '
                  'be removed in the future. Please use keyword parameter(s) instead.')
    kwargs.update(given)
    return kwargs


def builder(weights_enum, state_dict_hook=None, after_load=None, legacy='IMAGENET1K_V1'):
    """Decorator for a model builder taking ``weights``: registers it, records its weights enum, accepts the
    legacy ``pretrained=`` argument (meaning the member named ``legacy``), checks ``weights`` and fixes
    ``num_classes`` to the weights' classes.
    ``state_dict_hook`` maps the downloaded state dict to the model's keys (old file layouts);
    ``after_load(model, kwargs)`` adjusts the loaded model to the caller's arguments."""
    def wrap(fn):
        def build(*args, **kwargs):
            kwargs = keywords_from_positions(fn, args, kwargs)
            legacy_weights(kwargs, 'weights', 'pretrained', weights_enum.__members__.get(legacy), fn.__name__)
            weights = weights_enum.verify(kwargs.pop('weights', None))
            progress = kwargs.pop('progress', True)
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
