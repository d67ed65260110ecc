"""Exception types shared across the package (a module of their own, so nothing imports in a cycle)."""


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
