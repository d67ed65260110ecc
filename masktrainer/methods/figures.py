"""What reports read of a method's finished runs: the plotter and the compare tables.

:mod:`plotting` reads run directories, including those of earlier versions, from their
config values; it asks the run's method (``Method.figures``) instead of testing a
train type or an option of one method. The compare tables and the cross-check ask it what a
run changed of its initial network (:meth:`Figures.changed_fraction`). No TensorFlow.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from masktrainer.config import RunConfig


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
        """Whether a run of these config values flips signs (plotted as flipped signs, not
        as remaining weights)."""
        return False

    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """The fraction of connections whose effective weight at the end differs from the
        initial random network's: 1 when the weights themselves train; masked layers: the
        pruned (zero) and flipped (negative) masks of the last epoch; None if not recorded."""
        if cfg.train_weights:
            return 1.0
        from masktrainer.methods.counts import changed_from_counts

        return changed_from_counts(metrics)
