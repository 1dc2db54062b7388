"""The main module of a process that multiprocessing spawns under ``ember run`` (DataLoader workers with
``multiprocessing_context='spawn'``, the default on macOS and Windows): torch is aliased to ember first,
then the user's script runs as ``__mp_main__``, as multiprocessing runs it under plain ``python``, so its
``import torch`` gives ember and the classes it defines unpickle."""
import os
import runpy

from ember import aliasing

aliasing.install()
_path = os.environ.get(aliasing.SPAWN_MAIN_VAR, '')
if _path.endswith('.py'):
    globals().update(runpy.run_path(_path, run_name='__mp_main__'))
