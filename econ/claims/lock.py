"""Locks that keep two runs writing into one results folder from destroying each other's work.

Two kinds, both released by the operating system when their process dies (so a killed run never leaves a lock
behind):

* :func:`folder_lock` -- held for the few file operations that must not interleave: recovering what a killed run
  left, creating a run's temporary folder, and the two renames that swap a finished result into place. A second run
  waits for it (these sections last milliseconds).
* :class:`OwnedFolder` -- every run holds a lock on its own temporary ``.<id>.partial-*`` folder until the
  folder is renamed into place or removed. Recovery removes a temporary folder only when it can take that lock, i.e.
  when the run that made it is gone, however long it has been running.

On POSIX both use ``fcntl.flock`` on the folder itself (no lock files). Where ``fcntl`` is missing (Windows), the
fallback is coarser and says so: :func:`folder_lock` is a lock file ``.econ-lock`` created exclusively in the
results folder (its pid written in it), held for a whole ``econ replicate`` run, so runs on one folder take turns; a
temporary folder found while holding it belongs to a killed run. A lock file left by a killed run on such a system
is named in the error with what to do.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from econ.errors import EconError

__all__ = ["HAVE_FLOCK", "folder_lock", "run_lock", "OwnedFolder", "is_abandoned"]

HAVE_FLOCK = fcntl is not None
LOCK_FILE = ".econ-lock"
_WAIT = 600.0  # seconds the fallback waits for another run's lock file before giving up


def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


_held: dict[str, int] = {}  # folders this process holds the lock of (re-entering is a no-op)


@contextlib.contextmanager
def folder_lock(folder):
    """Hold the lock of the results ``folder`` (which must exist) for the duration of the ``with`` block.

    POSIX: an exclusive ``flock`` on the folder (waits for another holder). Elsewhere: an exclusively created lock
    file (waits up to ten minutes, then raises :class:`econ.errors.EconError` naming the file). Re-entrant within
    one process.
    """
    folder = Path(folder)
    key = str(folder.resolve())
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    if HAVE_FLOCK:
        fd = _open_dir(folder)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _held[key] = 1
            yield
        finally:
            _held.pop(key, None)
            os.close(fd)  # closing releases the lock
        return
    with _lock_file(folder / LOCK_FILE):  # pragma: no cover - exercised on Windows only
        _held[key] = 1
        try:
            yield
        finally:
            _held.pop(key, None)


def run_lock(folder):
    """What a whole ``econ replicate`` run holds on its results folder: nothing with ``flock`` (runs proceed side by
    side, serialised only in :func:`folder_lock`), the folder lock itself in the fallback (runs take turns)."""
    return contextlib.nullcontext() if HAVE_FLOCK else folder_lock(folder)


@contextlib.contextmanager
def _lock_file(path: Path):  # pragma: no cover - the fallback where fcntl is missing
    deadline = time.monotonic() + _WAIT
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                holder = path.read_text(errors="replace").strip() if path.is_file() else "?"
                raise EconError(f"{path} is held by another econ run (pid {holder}); wait for it to finish, or "
                                "delete the file if no econ run is active") from None
            time.sleep(0.2)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


class OwnedFolder:
    """A run's temporary folder, locked by that run until :meth:`release` (POSIX; a no-op elsewhere)."""

    def __init__(self, path):
        self.path = Path(path)
        self._fd = None
        if HAVE_FLOCK:
            self._fd = _open_dir(self.path)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def is_abandoned(path) -> bool:
    """True when the temporary folder ``path`` belongs to no live run (its owner's lock can be taken).

    Call it holding :func:`folder_lock`. Without ``flock`` (the fallback) a run holds the folder lock for its whole
    duration, so any temporary folder seen under the lock is abandoned.
    """
    if not HAVE_FLOCK:  # pragma: no cover
        return True
    try:
        fd = _open_dir(Path(path))
    except OSError:
        return False  # gone already, or not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its run holds it
    finally:
        os.close(fd)
    return True
