"""Writing a checkpoint at a path without ever losing data: a regular file is replaced atomically (temp file
beside it, fsync, ``os.replace``) keeping its mode and owner; where a replace would break something (hard
links, an owner the process cannot give the new file) the finished temp file is copied over the target in
place and fsynced; character devices, FIFOs and sockets (``/dev/null``, ``/dev/stdout``) are written through
as PyTorch does. The temp file never outlives an error or a SIGTERM/SIGHUP, and temp files left by a killed
process are removed by the next save to the same path."""
import contextlib
import os
import re
import secrets
import shutil
import signal
import stat
import threading
import time

_LEGACY_AGE = 3600  # seconds after which a temp file without a pid (older ember) counts as abandoned


def write_path(path, write):
    """Call ``write(fh)`` on a binary file object whose bytes end up at ``path``."""
    path = os.fspath(path)
    if not path or path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        raise RuntimeError(f'invalid file name: {path}')
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        with open(path, 'wb') as fh:
            write(_Stream(fh))
        return
    target = os.path.realpath(path)
    folder, name = os.path.dirname(target), os.path.basename(target)
    if not os.path.isdir(folder):
        raise RuntimeError(f'Parent directory {os.path.dirname(path)} does not exist.')
    _remove_abandoned(folder, name)
    with _cleanup_on_signals():
        made = []
        try:
            fd = _temp_file(folder, name, made)
            tmp = made[0]
            with os.fdopen(fd, 'wb') as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if st is None or _adopt(tmp, st):
                os.replace(tmp, target)
            else:
                _copy_in_place(tmp, target)
                os.unlink(tmp)
        except BaseException:
            for leftover in made:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
            raise
    _fsync_dir(folder)


class _Stream:
    """Write-only view of a device or pipe: without ``tell``/``seek`` the zip writer counts offsets itself
    (``/dev/null`` reports position 0 forever, which would corrupt them)."""

    def __init__(self, fh):
        self.write, self.flush = fh.write, fh.flush


def _temp_name(name, pid):
    return f'.{name[:200]}.{pid}.{secrets.token_hex(6)}.tmp'


def _temp_file(folder, name, made):
    """Create a new temp file in ``folder`` (mode 0o666 less the umask, like a plain ``open``) and return its
    descriptor. Its path is put in ``made`` just before it is created, so that a signal arriving as the file
    appears still finds it to remove; the name carries this process's id so that a later save can tell an
    abandoned temp file from one being written."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_BINARY', 0)
    for _ in range(100):
        made[:] = [os.path.join(folder, _temp_name(name, os.getpid()))]
        try:
            return os.open(made[0], flags, 0o666)
        except FileExistsError:
            made.clear()
    raise FileExistsError(f'could not create a temporary file in {folder!r}')


def _remove_abandoned(folder, name):
    """Delete temp files of this naming for ``name`` whose writing process is gone (killed mid-save)."""
    pattern = re.compile(re.escape(f'.{name[:200]}.') + r'(?:(\d+)\.)?[0-9a-f]{12}\.tmp')
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            m = pattern.fullmatch(entry.name)
            if m and _abandoned(m.group(1), entry):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _abandoned(pid, entry):
    if pid is None:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _adopt(tmp, st):
    """Give the temp file the target's owner and mode; False where replacing the target would lose something
    (its other hard links, or an owner this process cannot set)."""
    if st.st_nlink > 1:
        return False
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except (OSError, AttributeError):
            return False
    with contextlib.suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
    return True


def _copy_in_place(tmp, target):
    """Overwrite ``target``'s contents with the finished temp file's, keeping its inode, links and owner."""
    with open(tmp, 'rb') as src, open(target, 'r+b') as dst:
        shutil.copyfileobj(src, dst, 1 << 24)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _fsync_dir(folder):
    """Make the rename durable (POSIX); best effort."""
    if not hasattr(os, 'O_DIRECTORY'):
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived during a save: unwinds it (removing the temp file), then the process dies
    of that signal as it would have."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


_SIGNALS = tuple(getattr(signal, n) for n in ('SIGTERM', 'SIGHUP') if hasattr(signal, n))


@contextlib.contextmanager
def _cleanup_on_signals():
    """While saving, turn SIGTERM/SIGHUP (when they would kill the process outright) into an exception."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    closing, fired = [], []

    def handler(signum, frame):
        if closing:     # landed while the handlers are being put back: die of it as the default would
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        fired.append(signum)
        raise _Terminated(signum)

    old = {}
    try:
        for sig in _SIGNALS:
            if signal.getsignal(sig) == signal.SIG_DFL:
                old[sig] = signal.signal(sig, handler)
    except (ValueError, OSError):
        pass
    try:
        yield
    except BaseException:
        if not fired:
            raise
        # the signal's exception may come back as another one: raised inside zipfile's writestr, it leaves a
        # write handle open, and ZipFile's close on the way out raises ValueError in its place
        closing.append(True)
        _restore(old)
        os.kill(os.getpid(), fired[0])
        raise SystemExit(128 + fired[0]) from None
    finally:
        closing.append(True)
        _restore(old)


def _restore(old):
    while old:
        sig, handler = old.popitem()
        signal.signal(sig, handler)
