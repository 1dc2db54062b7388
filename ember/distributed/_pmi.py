"""The rendezvous: a PMI-1 server (the process-management wire protocol that MPICH's ``mpiexec``
speaks) that rank 0 starts at MASTER_ADDR:MASTER_PORT for processes that ``mpiexec`` did not start, and
the client side that points MPICH at it before ``MPI_Init``. Only start-up metadata (MPI business
cards, barriers) crosses this socket; tensors always move over MPI.

The server runs as a small child process of rank 0, not a thread: ``MPI_Init`` holds the GIL while it
waits on the server's barrier (a thread deadlocked, measured). It needs only the standard library and
exits when every rank has hung up (a rank's exit closes its connection)."""
import os
import socket
import subprocess
import sys
import threading
import time

_VERSION = 'cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0'


class PMIServer:
    """Serves one MPI world of ``size`` processes, ``per_node`` consecutive ranks to a node."""

    def __init__(self, host, port, size, per_node):
        self.size, self.per_node = size, per_node
        self.kvsname = f'ember_{port}_{os.getpid()}_{time.time_ns() % 10**9}'
        self._kvs, self._cond, self._waiting, self._generation = {}, threading.Condition(), 0, 0
        self._departed = 0  # ranks that hung up: a barrier no longer waits for them
        self._joined, self._deadline = 0, None
        self._socket = socket.create_server((_bind_host(host), port))

    def serve(self, deadline, parent):
        """Accept every rank's connection (until ``deadline``, while process ``parent`` lives), answer
        each on its own thread, and return when all have hung up."""
        threads, conns = [], []
        self._deadline = deadline
        self._socket.settimeout(0.5)
        while len(threads) < self.size and time.monotonic() < deadline and _alive(parent):
            try:
                conn, _ = self._socket.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            conns.append(conn)
            threads.append(threading.Thread(target=self._answer, args=(conn,), daemon=True))
            threads[-1].start()
        self._socket.close()
        if len(conns) < self.size:  # a rank never came: hang up so the others' MPI_Init fails, not waits
            for conn in conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:  # already closed by its rank
                    pass
        for thread in threads:
            thread.join()

    def _answer(self, conn):
        """Answer one rank's PMI-1 requests until it finalizes or hangs up (exit, failure)."""
        try:
            with conn, conn.makefile('rb') as lines:
                for line in lines:
                    fields = dict(f.split('=', 1) for f in line.decode().split() if '=' in f)
                    reply = self._reply(fields)
                    if reply is None:
                        return
                    conn.sendall(reply.encode() + b'\n')
                    if fields.get('cmd') == 'finalize':
                        return
        except OSError:
            pass
        finally:
            with self._cond:
                self._departed += 1
                self._release()

    def _reply(self, f):
        """The answer to one request (a dict of its ``key=value`` fields); None ends the connection."""
        cmd = f.get('cmd')
        if cmd == 'ember_join':
            return self._join()
        if cmd == 'init':
            return _VERSION
        if cmd == 'get_maxes':
            return 'cmd=maxes kvsname_max=256 keylen_max=256 vallen_max=4096 rc=0'
        if cmd == 'get_appnum':
            return 'cmd=appnum appnum=0 rc=0'
        if cmd == 'get_my_kvsname':
            return f'cmd=my_kvsname kvsname={self.kvsname} rc=0'
        if cmd == 'get_universe_size':
            return f'cmd=universe_size size={self.size} rc=0'
        if cmd == 'put':
            with self._cond:
                self._kvs[f['key']] = f.get('value', '')
            return 'cmd=put_result rc=0'
        if cmd == 'get':
            value = self._get(f['key'])
            if value is None:
                return 'cmd=get_result rc=-1 msg=key_not_found'
            return f'cmd=get_result rc=0 value={value}'
        if cmd == 'barrier_in':
            self._barrier()
            return 'cmd=barrier_out rc=0'
        if cmd == 'finalize':
            return 'cmd=finalize_ack rc=0'
        if cmd == 'abort':
            return None
        return f'cmd={cmd} rc=-1 msg=unsupported'

    def _join(self):
        """ember's own first request, before MPICH's: answer when all ranks have connected, or say how
        many had when the deadline passed (the client then raises, before ``MPI_Init``)."""
        with self._cond:
            self._joined += 1
            self._cond.notify_all()
            while self._joined < self.size and time.monotonic() < self._deadline:
                self._cond.wait(max(0.0, min(0.5, self._deadline - time.monotonic())))
            if self._joined < self.size:
                return f'cmd=ember_go rc=-1 joined={self._joined}'
        return 'cmd=ember_go rc=0'

    def _get(self, key):
        """A stored value, or the process mapping (which ranks share a node) that MPICH asks for."""
        if key == 'PMI_process_mapping':
            return f'(vector,(0,{self.size // self.per_node},{self.per_node}))'
        with self._cond:
            return self._kvs.get(key)

    def _barrier(self):
        """Block until all ``size`` ranks have entered the barrier."""
        with self._cond:
            generation = self._generation
            self._waiting += 1
            self._release()
            while self._generation == generation:
                self._cond.wait()

    def _release(self):
        """Open the barrier when every rank has entered it or left for good (holding the lock)."""
        if self._waiting and self._waiting + self._departed >= self.size:
            self._waiting, self._generation = 0, self._generation + 1
            self._cond.notify_all()



def _alive(pid):
    """Whether process ``pid`` still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def start_server(host, port, size, per_node, timeout):
    """Start the server process for a world of ``size`` ranks; raises RuntimeError when it cannot listen
    at ``host:port`` (the port is taken, say)."""
    command = [sys.executable, '-S', os.path.abspath(__file__), host, str(port), str(size), str(per_node),
               str(timeout), str(os.getpid())]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, close_fds=True)
    answer = proc.stdout.readline().decode().strip()
    proc.stdout.close()
    if answer != 'ready':
        proc.wait()
        raise RuntimeError(f'ember.distributed: rank 0 could not serve the rendezvous at {host}:{port} '
                           f'(MASTER_ADDR:MASTER_PORT): {answer or "the server exited"}')
    return proc


def _bind_host(host):
    """The address to listen on: every interface unless the master is this machine's loopback."""
    return host if host in ('127.0.0.1', 'localhost', '::1') else ''


def connect(host, port, rank, size, deadline):
    """Connect to the PMI server and set the environment MPICH's ``MPI_Init`` reads; retried until
    ``deadline`` (rank 0 may not be listening yet)."""
    while True:
        try:
            conn = socket.create_connection((host, port), timeout=5)
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f'ember.distributed: could not reach the rendezvous at {host}:{port} '
                                   f'(MASTER_ADDR:MASTER_PORT) before the timeout: {exc}') from None
            time.sleep(0.05)
    _join(conn, host, port, size, deadline)
    conn.settimeout(None)
    fd = conn.detach()  # MPICH owns the descriptor from here on (Python must never close it)
    os.environ.update(PMI_FD=str(fd), PMI_RANK=str(rank), PMI_SIZE=str(size))


def _join(conn, host, port, size, deadline):
    """Wait (until ``deadline``) for the server to say that all ``size`` ranks have come; RuntimeError
    if they have not, raised here because MPICH's start-up cannot give up on a missing rank."""
    conn.settimeout(max(1.0, deadline - time.monotonic() + 5))
    reply = b''
    try:
        conn.sendall(b'cmd=ember_join\n')
        while not reply.endswith(b'\n'):
            chunk = conn.recv(256)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    fields = dict(f.split('=', 1) for f in reply.decode().split() if '=' in f)
    if fields.get('rc') != '0':
        joined = fields.get('joined', 'not all')
        conn.close()
        raise RuntimeError(f'ember.distributed: {joined} of {size} ranks reached the rendezvous at {host}:{port} '
                           f'(MASTER_ADDR:MASTER_PORT) before the timeout of init_process_group')


def forget():
    """Take the PMI variables out of the environment once MPI has started, so that processes this one
    starts do not take themselves for ranks of its MPI job."""
    for name in ('PMI_FD', 'PMI_RANK', 'PMI_SIZE'):
        os.environ.pop(name, None)


def _main(host, port, size, per_node, timeout, parent):
    """Entry point of the server process: say 'ready' (or the error) on stdout, then serve."""
    try:
        server = PMIServer(host, int(port), int(size), int(per_node))
    except OSError as exc:
        print(f'{exc}', flush=True)
        return 1
    print('ready', flush=True)
    sys.stdout.close()
    server.serve(time.monotonic() + float(timeout), int(parent))
    return 0


if __name__ == '__main__':
    sys.exit(_main(*sys.argv[1:]))
