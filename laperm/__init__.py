"""LaPerm / Train-by-Reconnect (Qiu & Suda 2020) for Keras 3.

``LaPerm(inner_optimizer, sync_period=k)`` wraps any Keras optimizer and
periodically re-permutes each output unit's initial weights into the rank
order of the trained ones.

The names below load on first use, so ``laperm.layout`` (NumPy only) can be
imported without TensorFlow. The optimizer and its sync schedules join Keras'
registry once Keras is loaded (:mod:`laperm.keras_hook`), so
``keras.models.load_model`` reads a LaPerm-compiled model after ``import laperm``.
"""

import importlib

from laperm.keras_hook import when_keras_loads

_KERAS_MODULES = ("laperm.optimizer", "laperm.schedules")

_EXPORTS = {
    "EpochSyncPeriod": "laperm.schedules",
    "LaPerm": "laperm.optimizer",
    "PiecewiseSyncPeriod": "laperm.schedules",
    "default_role": "laperm.optimizer",
    "reconnect": "laperm.rows",
    "roles_from_model": "laperm.optimizer",
    "sorted_rows": "laperm.rows",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'laperm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


def _register_keras_objects() -> None:
    for name in _KERAS_MODULES:
        importlib.import_module(name)


when_keras_loads(_register_keras_objects, ("laperm",))
