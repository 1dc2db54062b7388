"""Command-line overrides as nanoGPT's configurator takes them, run with exec() from train.py: a bare
argument is a config file executed over the defaults, ``--key=value`` replaces one default (the value
parsed as a Python literal when it is one, and of the default's type)."""
import sys
from ast import literal_eval

for arg in sys.argv[1:]:
    if not arg.startswith('--'):
        print(f'Overriding config with {arg}:')
        with open(arg) as f:
            source = f.read()
        print(source)
        exec(source)
        continue
    key, _, value = arg[2:].partition('=')
    if key not in globals():
        raise ValueError(f'Unknown config key: {key}')
    try:
        value = literal_eval(value)
    except (SyntaxError, ValueError):
        pass
    assert type(value) is type(globals()[key]), f'{key}: {value!r} is not a {type(globals()[key]).__name__}'
    print(f'Overriding: {key} = {value}')
    globals()[key] = value
