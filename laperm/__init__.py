"""LaPerm / Train-by-Reconnect (Qiu & Suda 2020) for Keras 3.

``LaPerm(inner_optimizer, sync_period=k)`` wraps any Keras optimizer and
periodically re-permutes each output unit's initial weights into the rank
order of the trained ones.
"""

from laperm.optimizer import LaPerm, default_role, roles_from_model
from laperm.rows import reconnect, sorted_rows
from laperm.schedules import EpochSyncPeriod, PiecewiseSyncPeriod

__all__ = [
    "EpochSyncPeriod",
    "LaPerm",
    "PiecewiseSyncPeriod",
    "default_role",
    "reconnect",
    "roles_from_model",
    "sorted_rows",
]
