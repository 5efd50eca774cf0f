"""One writer per sweep folder: a lock file that names its holder.

``sweep.lock`` in the folder holds an exclusive POSIX record lock (``fcntl.lockf``) for
as long as a sweep writes there, and the holder's pid, host and start time. The kernel
drops the record lock when its process dies, however it dies, so the file of a killed
sweep is left behind unlocked; the next sweep takes it over and logs a warning naming
the dead holder. The recorded holder is also checked on its own (is that process on
this host still the one that wrote the file?), which keeps two writers apart on file
systems whose locks are not enforced, and refuses a lock left by another host, which
cannot be checked from here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from compress.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the recorded holder is the only check
    fcntl = None

__all__ = ["LOCK_FILE", "FolderLock", "Holder", "LockError"]

log = logging.getLogger(__name__)
LOCK_FILE = "sweep.lock"


class LockError(InputError):
    """Another sweep is writing the folder."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: enough to tell the user, and to tell whether it still runs."""

    pid: int
    host: str
    started: str
    """Local time the lock was taken, ISO 8601."""
    process_start: int | None = None
    """The holder's start time in clock ticks since boot (Linux), against pid reuse."""
    boot_id: str | None = None

    @classmethod
    def me(cls) -> Holder:
        return cls(
            os.getpid(),
            socket.gethostname(),
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            _process_start(os.getpid()),
            _boot_id(),
        )

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}"

    def running(self) -> bool:
        """Whether the holding process still runs (asked on the holder's host)."""
        if self.pid <= 0:
            return False  # an unreadable lock file names no process
        if None not in (self.boot_id, _boot_id()) and self.boot_id != _boot_id():
            return False  # the machine has rebooted since
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # another user's process: it exists
        if self.process_start is None:
            return True
        return _process_start(self.pid) in (self.process_start, None)  # else: pid reused


def _process_start(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
    except (OSError, IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _read_holder(fd: int) -> Holder | None:
    data = os.pread(fd, 4096, 0)
    if not data.strip():
        return None
    try:
        holder = Holder(**json.loads(data))
    except (ValueError, TypeError):
        holder = None
    if holder is None or not (
        type(holder.pid) is int and isinstance(holder.host, str) and isinstance(holder.started, str)
    ):
        return Holder(pid=0, host=socket.gethostname(), started="? (unreadable lock file)")
    return holder


class FolderLock:
    """The lock on a sweep folder; a context manager (released on exit, error or Ctrl-C)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock (creating the folder), or raise :class:`LockError` naming the
        holder; a lock left by a dead process on this host is taken over with a warning."""
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not self._lock(fd):
                    raise self._busy(_read_holder(fd))
                if _same_file(fd, self.path):  # not unlinked by a releasing holder meanwhile
                    self._claim(fd)
                    self._fd = fd
                    return self
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)

    @staticmethod
    def _lock(fd: int) -> bool:
        if fcntl is None:
            return True
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: held elsewhere
            return False
        return True

    def _busy(self, holder: Holder | None) -> LockError:
        who = holder.describe() if holder else "a process that has not written its name yet"
        return LockError(
            f"{self.root} is being written by another sweep ({who}); wait for it to finish "
            "or use another --out folder"
        )

    def _claim(self, fd: int) -> None:
        previous = _read_holder(fd)
        if previous is not None:
            if previous.host != socket.gethostname():
                raise LockError(
                    f"{self.root} is locked by a sweep on another host ({previous.describe()}), "
                    f"which cannot be checked from here; if it no longer runs, delete {self.path}"
                )
            if previous.running():
                raise self._busy(previous)
            log.warning(
                "%s: took over the lock of a sweep that no longer runs (%s)",
                self.root,
                previous.describe(),
            )
        data = json.dumps(asdict(Holder.me())).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)
