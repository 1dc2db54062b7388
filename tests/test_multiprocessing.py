"""``torch.multiprocessing`` (``ember.multiprocessing``): ``spawn`` under ``ember run`` starts processes
that see ``import torch`` as ember and form a process group; a failing child stops the others and
raises PyTorch's ProcessRaisedException / ProcessExitedException in the parent."""
import os
import subprocess
import sys
from pathlib import Path

import ember.multiprocessing as emp

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r'''
import datetime, os, socket, sys, time
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rank_main(rank, world, port, fail):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world, timeout=datetime.timedelta(seconds=30))
    sys.stdout.write(f'child {rank} pid {os.getpid()} {torch.__spec__.name}\n')
    sys.stdout.flush()
    t = torch.arange(3.) * (rank + 1)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    objs = [None] * world
    dist.all_gather_object(objs, {'rank': rank})
    if fail and rank == 1:
        raise KeyError('child 1 fails')
    dist.barrier()
    if rank == 0:
        print('result', t.tolist(), objs, flush=True)
    dist.destroy_process_group()


def exits(i):
    os._exit(3)


if __name__ == '__main__':
    mp.spawn(rank_main, args=(2, free_port(), False), nprocs=2)
    try:
        mp.spawn(rank_main, args=(2, free_port(), True), nprocs=2)
    except mp.ProcessRaisedException as exc:
        print('raised', exc.error_index, exc.msg.splitlines()[2], exc.msg.strip().splitlines()[-1], flush=True)
    context = mp.start_processes(exits, nprocs=1, join=False, start_method='spawn')
    print('context', type(context).__name__, len(context.pids()), flush=True)
    try:
        while not context.join():
            pass
    except mp.ProcessExitedException as exc:
        print('exited', exc, exc.exit_code, exc.error_index, exc.signal_name, flush=True)
'''


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ')[1][:1] != 'Z'
    except FileNotFoundError:
        return False


def test_spawn_under_ember_run_forms_a_group_and_reports_failures(tmp_path):
    script = tmp_path / 'spawned.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get('PYTHONPATH')])))
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        env.pop(name, None)
    out = subprocess.run([sys.executable, '-m', 'ember', 'run', str(script)], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "result [0.0, 2.0, 4.0] [{'rank': 0}, {'rank': 1}]" in lines
    assert sorted(line.split()[-1] for line in lines if line.startswith('child ')) == ['ember'] * 4
    assert 'raised 1 -- Process 1 terminated with the following error: KeyError: \'child 1 fails\'' in lines
    assert 'context ProcessContext 1' in lines
    assert 'exited process 0 terminated with exit code 3 3 0 None' in lines
    pids = [int(line.split()[3]) for line in lines if line.startswith('child ')]
    assert not any(_alive(pid) for pid in pids)


def test_module_reexports_multiprocessing():
    import multiprocessing
    assert emp.Queue is multiprocessing.Queue and emp.get_context is multiprocessing.get_context
    assert emp.get_sharing_strategy() in emp.get_all_sharing_strategies()
    exc = emp.ProcessExitedException('process 0 terminated with exit code 3', 0, 12, 3)
    assert (exc.msg, exc.error_index, exc.error_pid, exc.exit_code, str(exc)) == (
        'process 0 terminated with exit code 3', 0, 12, 3, 'process 0 terminated with exit code 3')
