"""The launcher (``torch.distributed.run``, torchrun's counterpart): ``ember run --nproc-per-node N
script.py ARGS`` starts N processes of ``ember run script.py ARGS`` with torchrun's environment
variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), waits
for them, and when one fails terminates the others and exits with its status, naming the rank."""
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

from . import _mpi

USAGE = """\
usage: ember run --nproc-per-node N [--nnodes M] [--node-rank K] [--master-addr HOST]
                 [--master-port PORT] [--standalone] [--figures DIR] PATH [ARGS...]
"""
_OPTIONS = {'--nproc-per-node': 'nproc_per_node', '--nnodes': 'nnodes', '--node-rank': 'node_rank',
            '--master-addr': 'master_addr', '--master-port': 'master_port', '--figures': 'figures',
            '--max-restarts': 'max_restarts', '--rdzv-backend': 'rdzv_backend',
            '--rdzv-endpoint': 'rdzv_endpoint', '--rdzv-id': 'rdzv_id'}
_FLAGS = {'--standalone': 'standalone'}
_GRACE = 5.0  # seconds the other ranks get to exit after SIGTERM before SIGKILL


class LaunchError(Exception):
    """A bad launcher command line."""


def is_launch(args):
    """Whether ``ember run`` options ``args`` ask for the launcher (an option before PATH names it)."""
    for arg in args:
        if not arg.startswith('-') or arg == '--':
            return False
        name = _canonical(arg.partition('=')[0])
        if name in _OPTIONS and name != '--figures' or name in _FLAGS:
            return True
    return False


def _canonical(option):
    """torchrun accepts ``--nproc_per_node`` and ``--nproc-per-node`` alike."""
    return option.replace('_', '-') if option.startswith('--') else option


def parse(args):
    """``(options, path, script_args)`` from the launcher's command line."""
    args, options = list(args), {'nproc_per_node': '1', 'nnodes': '1', 'node_rank': '0', 'master_addr': None,
                                 'master_port': None, 'figures': None, 'standalone': False, 'max_restarts': '0'}
    while args and args[0].startswith('-'):
        option = args.pop(0)
        if option == '--':
            break
        name, eq, value = option.partition('=')
        name = _canonical(name)
        if name in _FLAGS:
            options[_FLAGS[name]] = True
        elif name in _OPTIONS:
            if not eq:
                if not args:
                    raise LaunchError(f'option {name} needs a value')
                value = args.pop(0)
            options[_OPTIONS[name]] = value
        else:
            raise LaunchError(f'unknown option {option!r} for run')
    if not args:
        raise LaunchError('run needs a PATH')
    return _check(options), args[0], args[1:]


def _check(options):
    """Validate and convert the options."""
    def integer(name, low):
        try:
            value = int(options[name])
        except (TypeError, ValueError):
            raise LaunchError(f'--{name.replace("_", "-")} must be an integer, got {options[name]!r}') from None
        if value < low:
            raise LaunchError(f'--{name.replace("_", "-")} must be at least {low}, got {value}')
        return value
    nproc = options['nproc_per_node']
    options['nproc_per_node'] = os.cpu_count() if nproc == 'cpu' else integer('nproc_per_node', 1)
    nnodes = str(options['nnodes'])
    if ':' in nnodes:
        low, _, high = nnodes.partition(':')
        if low != high:
            raise LaunchError(f'--nnodes {nnodes}: elastic ranges are not supported by ember; give one number')
        options['nnodes'] = low
    options['nnodes'] = integer('nnodes', 1)
    options['node_rank'] = integer('node_rank', 0)
    if options['node_rank'] >= options['nnodes']:
        raise LaunchError(f'--node-rank {options["node_rank"]} must be below --nnodes {options["nnodes"]}')
    if integer('max_restarts', 0):
        raise LaunchError('--max-restarts: restarting failed workers is not supported by ember')
    if options['standalone'] and options['nnodes'] != 1:
        raise LaunchError('--standalone runs on one node: it cannot go with --nnodes above 1')
    if options['nnodes'] > 1 and (options['master_addr'] is None or options['master_port'] is None):
        raise LaunchError('with --nnodes above 1, give --master-addr and --master-port (node 0\'s address '
                          'and a free port there), the same on every node')
    if options['master_port'] is not None:
        options['master_port'] = integer('master_port', 1)
    return options


def _free_port():
    """A TCP port free on this machine now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def worker_env(options, local_rank, run_id):
    """The environment of local rank ``local_rank``: torchrun's variables over ours."""
    nproc, node = options['nproc_per_node'], options['node_rank']
    env = dict(os.environ)
    env.update(RANK=str(node * nproc + local_rank), LOCAL_RANK=str(local_rank),
               WORLD_SIZE=str(nproc * options['nnodes']), LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(node),
               ROLE_RANK=str(node * nproc + local_rank), ROLE_WORLD_SIZE=str(nproc * options['nnodes']),
               MASTER_ADDR=options['master_addr'], MASTER_PORT=str(options['master_port']),
               TORCHELASTIC_RUN_ID=run_id)
    if nproc > 1:
        env.setdefault('OMP_NUM_THREADS', '1')
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [root, env.get('PYTHONPATH')]))
    return env


def launch(options, path, script_args):
    """Start the local ranks, wait for them all, and return the exit status."""
    if _mpi.launched_by_mpiexec():
        raise LaunchError('ember run --nproc-per-node under mpirun/mpiexec: use one of the two launchers')
    if options['master_addr'] is None:
        options['master_addr'] = '127.0.0.1'
    if options['master_port'] is None:
        options['master_port'] = _free_port()
    run_id = os.environ.get('TORCHELASTIC_RUN_ID') or uuid.uuid4().hex[:12]
    command = [sys.executable, '-m', 'ember', 'run']
    if options['figures'] is not None:
        command += ['--figures', options['figures']]
    command += ['--', path, *script_args]
    workers = []
    previous = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for local_rank in range(options['nproc_per_node']):
            env = worker_env(options, local_rank, run_id)
            workers.append((int(env['RANK']), local_rank,
                            subprocess.Popen(command, env=env, start_new_session=True)))
        return _watch(workers)
    except KeyboardInterrupt:
        _terminate(workers)
        return 130
    finally:
        _terminate(workers)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _raise_interrupt(signum, frame):
    """SIGTERM/SIGHUP to the launcher stop the ranks as Ctrl-C does."""
    raise KeyboardInterrupt


def _watch(workers):
    """Wait for the ranks; on the first failure report it, stop the others and return its status."""
    running = list(workers)
    while running:
        for worker in list(running):
            rank, local_rank, proc = worker
            code = proc.poll()
            if code is None:
                continue
            running.remove(worker)
            if code != 0:
                status = code if code > 0 else 128 - code
                how = f'exited with code {code}' if code > 0 else f'was killed by signal {-code}'
                others = '; terminating the other ranks' if running else ''
                print(f'ember run: rank {rank} (local rank {local_rank}, pid {proc.pid}) {how}{others}',
                      file=sys.stderr, flush=True)
                _terminate(running)
                return status
        time.sleep(0.05)
    return 0


def _terminate(workers):
    """SIGTERM the process groups of the running ranks, SIGKILL those still there after the grace time."""
    alive = [proc for _, _, proc in workers if proc.poll() is None]
    for proc in alive:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE
    for proc in alive:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for _, _, proc in workers:
        _signal_group(proc, signal.SIGKILL)  # also whatever the rank started (DataLoader workers)
        proc.wait()


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def export_mpi_ranks():
    """Under ``mpirun``/``mpiexec``, set torchrun's RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE from
    the MPI launcher's variables (where not set), for scripts that read them."""
    ranks = _mpi.launcher_ranks()
    if ranks is None:
        return
    for name, value in zip(('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE'), ranks):
        os.environ.setdefault(name, str(value))


def main(argv=None):
    """``python -m ember.distributed.run [options] PATH [ARGS...]``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        options, path, script_args = parse(argv)
        return launch(options, path, script_args)
    except LaunchError as exc:
        print(f'ember: error: {exc}\n{USAGE}', end='', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
