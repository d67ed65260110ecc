"""Exception types shared across the package (a module of their own, so nothing imports in a cycle)."""


class ConfigError(ValueError):
    """An invalid setting or combination of settings (reported as a one-line error)."""


class DataError(RuntimeError):
    """Data missing, corrupt or unreadable (reported as a one-line error)."""
