"""A stored run's config as RunConfig values, runs of earlier versions upgraded by their
method (:meth:`masktrainer.methods.compat.Compat.upgrade_config`). No TensorFlow here."""

from __future__ import annotations

from typing import Any

from masktrainer import methods
from masktrainer.layout import BOOKKEEPING_KEYS, with_precision


def config_values(config: dict[str, Any]) -> dict[str, Any]:
    """The RunConfig fields of a run's config: its bookkeeping entries dropped, and the
    settings an earlier version did not record filled with what that version did."""
    extra = {key for method in methods.METHODS for key in method.runtime.metadata_keys}
    values = {k: v for k, v in with_precision(config).items()
              if k not in BOOKKEEPING_KEYS and k not in extra}
    try:
        method = methods.get_method(values.get("traintype"))
    except ValueError:  # RunConfig names the bad train type
        return values
    return method.compat.upgrade_config(values, method.recipe)
