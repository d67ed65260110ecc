"""An exclusive lock on a run directory while a process trains it.

The lock is an advisory ``flock`` on the run folder itself (no lock file is left behind);
the operating system drops it when the process ends, however it ends, so a killed run never
leaves a stale lock. A second process that tries to train (or resume) the same run is
refused with one line. Platforms without ``fcntl`` train unlocked.
"""

from __future__ import annotations

import os
from pathlib import Path

from masktrainer.errors import RunStateError

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None


class RunLock:
    """Hold ``acquire(folder)`` until ``release()`` (several folders may be held)."""

    def __init__(self) -> None:
        self._handles: list[int] = []

    def acquire(self, folder: str | os.PathLike, busy: str | None = None) -> None:
        """Lock ``folder`` or raise RunStateError (``busy``: the message when another process
        holds it; by default, that it is training the run)."""
        if fcntl is None:
            return
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
        except OSError as err:
            raise RunStateError(f"cannot open the run folder {folder}: {err.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunStateError(busy or (
                f"{Path(folder)} is being trained by another process (it holds the run's lock); "
                "wait for it to finish or stop it first")) from None
        self._handles.append(fd)

    def release(self) -> None:
        while self._handles:
            os.close(self._handles.pop())  # closing the descriptor drops its lock
