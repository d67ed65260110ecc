"""What the plotter needs to know of a method's runs (no TensorFlow).

:mod:`plotting` reads run directories, including those of earlier versions, from their
``config.json`` values; it asks the run's method (``Method.figures``) instead of testing a
train type or an option of one method.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping


@dataclasses.dataclass(frozen=True)
class Figures:
    """The default: no fields of its own in legends, masks that prune, no weight profiles."""

    #: The method's main hyperparameters: every legend names them (when a run has them).
    legend_fields: tuple[str, ...] = ()
    #: The shared field after which a label names them ("lr": after the learning rate).
    legend_after: str = "lr"
    #: Whether its runs keep initial and final weights whose per-unit sorted profiles show
    #: what training did (the weight-profile figure and the tracer).
    weight_profiles: bool = False

    def flips_signs(self, config: Mapping[str, Any]) -> bool:
        """Whether a run of this ``config.json`` flips signs (plotted as flipped signs, not
        as remaining weights)."""
        return False
