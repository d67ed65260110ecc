"""Exception types shared across the package, and the exit statuses commands end with (a module
of their own, so nothing imports in a cycle)."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The exit statuses of every command: python -m masktrainer and its subcommands, the plotter,
# the scripts in experiments/.
FAILED_EXIT = 1  # a write the operating system refused, a lost multi-worker peer, a failed run
USAGE_EXIT = 2  # a bad command line or input: one line on stderr, before any work
DIVERGED_EXIT = 3  # training stopped on a non-finite loss
# experiments/ scripts: stopped before the end (checkpointed); the same command continues.
STOPPED_EXIT = 3


def interrupted_exit(signum: int) -> int:
    """A run stopped by a signal exits with 128 + its number: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


class ConfigError(ValueError):
    """An invalid setting or combination of settings (reported as a one-line error)."""


class DataError(RuntimeError):
    """Data missing, corrupt or unreadable (reported as a one-line error)."""


class RunStateError(RuntimeError):
    """A run directory (or another file the library reads) is unsafe, inconsistent or corrupt:
    reported as one line, and nothing is changed."""


class RunWriteError(RuntimeError):
    """The operating system refused a write (full disk, permissions, an over-long name...):
    reported as one line naming the file; the files written before stay valid."""


class RunInterrupted(RuntimeError):
    """SIGINT or SIGTERM stopped a run at a step boundary after it was checkpointed."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class WorkerFailed(RuntimeError):
    """A worker of a multi-worker run died or became unreachable; the run is resumable."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command handles Ctrl-C, so both take one path: one line,
    temporaries removed, exit 128 + the signal number."""

    signum = signal.SIGTERM


def interrupt_signal(error: KeyboardInterrupt) -> tuple[int, str]:
    """The number and name of the signal behind an interrupt: SIGTERM for :class:`Terminated`,
    SIGINT otherwise."""
    signum = getattr(error, "signum", signal.SIGINT)
    return interrupted_exit(signum), signal.Signals(signum).name


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) instead of
    killing the process without cleanup. Handlers can only be set from the main thread;
    elsewhere SIGTERM keeps its handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
