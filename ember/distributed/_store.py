"""``torch.distributed``'s key-value stores: ``TCPStore`` (one process serves the keys over TCP, every process
reaches them as a client: skorch's DistributedHistory shares its epochs so) and ``HashStore`` (in one process).
Values are bytes; ``get``/``wait`` block until the keys are set or the timeout passes (``DistStoreError``)."""
import json
import socket
import socketserver
import struct
import threading
import time
from datetime import timedelta

__all__ = ["DistError", "DistStoreError", "Store", "HashStore", "TCPStore"]

_DEFAULT_TIMEOUT = timedelta(seconds=300)


class DistError(RuntimeError):
    """An error of torch.distributed."""


class DistStoreError(DistError):
    """A store's ``get``/``wait`` ran past its timeout."""


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


class _Table:
    """The keys and values, with a condition that blocking reads wait on."""

    def __init__(self):
        self.data, self.cond = {}, threading.Condition()

    def run(self, op, args, timeout):
        """Do ``op`` (a Store method name) on the table; the result is JSON-able (bytes as latin-1 text)."""
        with self.cond:
            if op in ('get', 'wait'):
                keys = [args[0]] if op == 'get' else args[0]
                end = time.monotonic() + timeout
                while not all(k in self.data for k in keys):
                    left = end - time.monotonic()
                    if left <= 0:
                        return ['timeout', keys]
                    self.cond.wait(left)
                return ['ok', self.data[keys[0]].decode('latin-1') if op == 'get' else None]
            out = self._change(op, args)
            self.cond.notify_all()
            return ['ok', out]

    def _change(self, op, args):
        data = self.data
        if op == 'set':
            data[args[0]] = args[1].encode('latin-1')
        elif op == 'add':
            data[args[0]] = str(int(data.get(args[0], b'0')) + args[1]).encode()
            return int(data[args[0]])
        elif op == 'append':
            data[args[0]] = data.get(args[0], b'') + args[1].encode('latin-1')
        elif op == 'compare_set':
            key, expected, desired = args[0], args[1].encode('latin-1'), args[2].encode('latin-1')
            if data.get(key, b'' if expected == b'' else None) == expected:
                data[key] = desired
            return data.get(key, expected).decode('latin-1')
        elif op == 'delete_key':
            return data.pop(args[0], None) is not None
        elif op == 'check':
            return all(k in data for k in args[0])
        elif op == 'num_keys':
            return len(data)
        elif op == 'list_keys':
            return [k for k in data if not k.startswith('\0')]
        else:
            raise ValueError(f'unknown store operation {op!r}')


class Store:
    """The key-value store interface: ``set``/``get``/``add``/``append``/``compare_set``/``wait``/``check``/
    ``delete_key``/``num_keys``/``list_keys``/``multi_get``/``multi_set`` over ``_call``."""

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = timeout

    @property
    def timeout(self):
        return self._timeout

    def set_timeout(self, timeout):
        self._timeout = timeout

    def _ask(self, op, *args, timeout=None):
        limit = (timeout or self._timeout).total_seconds()
        status, out = self._call(op, list(args), limit)
        if status == 'timeout':
            raise DistStoreError(f'wait timeout after {int(round(limit * 1000))}ms, keys: '
                                 + ', '.join('/' + k for k in out))
        return out

    def set(self, key, value):
        self._ask('set', key, _bytes(value).decode('latin-1'))

    def get(self, key):
        return self._ask('get', key).encode('latin-1')

    def add(self, key, amount):
        return self._ask('add', key, int(amount))

    def append(self, key, value):
        self._ask('append', key, _bytes(value).decode('latin-1'))

    def compare_set(self, key, expected_value, desired_value):
        return self._ask('compare_set', key, _bytes(expected_value).decode('latin-1'),
                         _bytes(desired_value).decode('latin-1')).encode('latin-1')

    def wait(self, keys, timeout=None):
        self._ask('wait', list(keys), timeout=timeout)

    def check(self, keys):
        return self._ask('check', list(keys))

    def delete_key(self, key):
        return self._ask('delete_key', key)

    def num_keys(self):
        return self._ask('num_keys')

    def list_keys(self):
        return self._ask('list_keys')

    def multi_get(self, keys):
        return [self.get(k) for k in keys]

    def multi_set(self, keys, values):
        for k, v in zip(keys, values):
            self.set(k, v)


class HashStore(Store):
    """A store in this process's memory (threads share it)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, args, timeout):
        return self._table.run(op, args, timeout)


def _send(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack('>Q', len(data)) + data)


def _receive(sock):
    head = _read_exact(sock, 8)
    return None if head is None else json.loads(_read_exact(sock, struct.unpack('>Q', head)[0]))


def _read_exact(sock, n):
    buf = b''
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


class _Handler(socketserver.BaseRequestHandler):
    """One client's requests ``[op, args, timeout]``, answered in turn until it disconnects."""

    def handle(self):
        while (msg := _receive(self.request)) is not None:
            try:
                _send(self.request, self.server.table.run(*msg))
            except (ValueError, TypeError, KeyError) as e:
                _send(self.request, ['error', f'{type(e).__name__}: {e}'])


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = allow_reuse_address = True


class TCPStore(Store):
    """``TCPStore(host_name, port, world_size=None, is_master=False, timeout=300s, wait_for_workers=True)``: the
    master serves the keys on ``port`` (0: a free one, read back from ``.port``); every process, the master too,
    is a client. With ``world_size`` and ``wait_for_workers`` the master waits for that many clients."""

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=_DEFAULT_TIMEOUT,
                 wait_for_workers=True, multi_tenant=False, master_listen_fd=None, use_libuv=True):
        super().__init__(timeout)
        if master_listen_fd is not None:
            raise NotImplementedError('TCPStore(master_listen_fd=...) is not supported by ember yet (ember opens '
                                      'its own listening socket); pass the port instead')
        self.host, self._server, self._lock = host_name, None, threading.Lock()
        if is_master:
            self._server = _Server((host_name, int(port)), _Handler)
            self._server.table = _Table()
            threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
            port = self._server.server_address[1]
        self.port = int(port)
        self._sock = self._connect(timeout.total_seconds())
        self.add('\0workers', 1)
        if is_master and world_size is not None and wait_for_workers:
            self._wait_workers(int(world_size), timeout.total_seconds())

    def __del__(self):
        """Close the connection, and the master's server (its clients then see the connection closed)."""
        sock, server = getattr(self, '_sock', None), getattr(self, '_server', None)
        if sock is not None:
            sock.close()
        if server is not None:
            server.shutdown()
            server.server_close()

    def _connect(self, limit):
        end = time.monotonic() + limit
        while True:
            try:
                return socket.create_connection((self.host, self.port), timeout=None)
            except OSError as e:
                if time.monotonic() > end:
                    raise DistStoreError(f'TCPStore: could not connect to {self.host}:{self.port} within '
                                         f'{limit:g}s ({e})') from None
                time.sleep(0.05)

    def _wait_workers(self, world_size, limit):
        end = time.monotonic() + limit
        while int(self.get('\0workers')) < world_size:
            if time.monotonic() > end:
                raise DistStoreError(f'Timed out after {limit:g}s waiting for clients. '
                                     f'{int(self.get(chr(0) + "workers"))}/{world_size} clients joined.')
            time.sleep(0.01)

    def _call(self, op, args, timeout):
        with self._lock:
            _send(self._sock, [op, args, timeout])
            out = _receive(self._sock)
        if out is None:
            raise DistError(f'TCPStore: the connection to {self.host}:{self.port} was closed by the server')
        if out[0] == 'error':
            raise DistError(f'TCPStore {op}: {out[1]}')
        return out
