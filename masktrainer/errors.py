"""Exception types shared across modules (kept here so no module imports in a cycle)."""


class ConfigError(ValueError):
    """An invalid flag value or combination (reported as a one-line error)."""
