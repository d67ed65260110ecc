"""Exception types shared across the package, and the exit statuses commands end with (a module
of their own, so nothing imports in a cycle)."""

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
