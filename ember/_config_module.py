"""Settings modules as PyTorch's compiler config modules (``torch._dynamo.config``, ``torch._inductor.config``):
importable, known settings read back and written, an unknown one refused with PyTorch's AttributeError. ember has
no compiler, so the values change nothing."""
import contextlib
import types


class ConfigModule(types.ModuleType):
    """A module of settings named ``torch_name`` in messages; sub-configs (``config.triton``) are ConfigModules too."""

    def __init__(self, name, torch_name, settings):
        super().__init__(name)
        vars(self)['_torch_name'] = torch_name
        for key, value in settings.items():
            if isinstance(value, dict):
                value = ConfigModule(f'{name}.{key}', f'{torch_name}.{key}', value)
            vars(self)[key] = value

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        raise AttributeError(f'{self._torch_name}.{name} does not exist')

    def __setattr__(self, name, value):
        if name not in vars(self) or name.startswith('_'):
            raise AttributeError(f'{self._torch_name}.{name} does not exist')
        vars(self)[name] = value

    def patch(self, arg1=None, arg2=None, **changes):
        """Set settings for a ``with`` block or a decorated function, then restore them (PyTorch's ``patch``):
        ``patch('name', value)``, ``patch({'name': value})`` or ``patch(name=value)``."""
        if isinstance(arg1, str):
            changes[arg1] = arg2
        elif isinstance(arg1, dict):
            changes.update(arg1)
        elif arg1 is not None:
            raise TypeError(f'{self._torch_name}.patch: expected a setting name or a dict, got {type(arg1).__name__}')
        for key in changes:
            if key not in vars(self) or key.startswith('_'):
                raise AttributeError(f'{self._torch_name}.{key} does not exist')
        return _Patch(self, changes)

    def get_config_copy(self):
        """The settings as a dict (sub-configs' as dotted names), as PyTorch's ``get_config_copy``."""
        out = {}
        for key, value in vars(self).items():
            if key.startswith('_') or callable(value) and not isinstance(value, ConfigModule):
                continue
            if isinstance(value, ConfigModule):
                out.update({f'{key}.{k}': v for k, v in value.get_config_copy().items()})
            else:
                out[key] = value
        return out


class _Patch(contextlib.ContextDecorator):
    """The context manager and decorator ``ConfigModule.patch`` returns."""

    def __init__(self, config, changes):
        self.config, self.changes, self.saved = config, changes, []

    def __enter__(self):
        self.saved.append({key: getattr(self.config, key) for key in self.changes})
        for key, value in self.changes.items():
            setattr(self.config, key, value)

    def __exit__(self, *exc):
        for key, value in self.saved.pop().items():
            setattr(self.config, key, value)
        return False
