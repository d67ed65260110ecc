"""Quantities derived from a run's metrics, in the units they are plotted in.

Every function takes a :class:`~plotting.runs.Run` and returns an array (one
row per recorded epoch) or ``None`` when the run does not record what is
needed, so callers can simply skip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

# Series recorded as fractions of 1 besides accuracies and ``*Fraction*`` keys (the run format's
# fact); every share is plotted in percent so that no axis mixes the two.
from masktrainer.layout import FRACTION_SERIES
from masktrainer.methods import figures_of
from plotting.runs import Run

REMAINING = "remaining"
FLIPPED = "flipped"
#: y-axis label of each sparsity measure.
SPARSITY_LABELS = {
    REMAINING: "Remaining weights (%)",
    FLIPPED: "Flipped signs (%)",
}
#: Human-readable names for known per-epoch series.
SERIES_LABELS = {
    "trainAccuracy": "Train accuracy (%)",
    "valAccuracy": "Validation accuracy (%)",
    "testAccuracy": "Test accuracy (%)",
    "trainLoss": "Train loss",
    "valLoss": "Validation loss",
    "testLoss": "Test loss",
    "remainingWeights": "Remaining weights",
    # LaPerm
    "syncCount": "Syncs so far",
    "syncChangedPositions": "Positions moved at the last sync",
    "permutationIntact": "Every unit a permutation",
    "changedFromInitial": "Positions moved from initial (%)",
    # Slot Machines, supermask sampling
    "slotChangedFraction": "Selections changed since last epoch (%)",
    "prunedFractionEstimate": "Expected pruned weights (%)",
}
#: Series shown in the dedicated figures.
DEDICATED_SERIES = frozenset(
    {"trainAccuracy", "valAccuracy", "testAccuracy"}
    | {"trainLoss", "valLoss", "testLoss", "remainingWeights"}
)
#: Series drawn nowhere: an epoch's wall-clock time measures the machine.
UNPLOTTED_SERIES = frozenset({"epochSeconds"})
#: Series that are 1 for yes and 0 for no.
YES_NO_SERIES = frozenset({"permutationIntact"})

Quantity = Callable[[Run], np.ndarray | None]


def sparsity_kind(run_or_config: Run | dict) -> str:
    """``"flipped"`` for sign-flipping runs (their method says which), ``"remaining"``
    otherwise."""
    config = run_or_config.config if isinstance(run_or_config, Run) else run_or_config
    return FLIPPED if figures_of(config).flips_signs(config) else REMAINING


def is_fraction(key: str) -> bool:
    """Whether the series ``key`` is recorded as a fraction of 1."""
    return key.endswith("Accuracy") or "Fraction" in key or key in FRACTION_SERIES


def series(key: str) -> Quantity:
    """A raw per-epoch series; fractions (accuracies included) in percent."""
    scale = 100.0 if is_fraction(key) else 1.0

    def quantity(run: Run) -> np.ndarray | None:
        values = run.series.get(key)
        return None if values is None else values * scale

    quantity.__name__ = key
    return quantity


def total_weights(run: Run) -> float | None:
    """Number of maskable weights: sum of layer sizes, else remainingWeights[0]."""
    if run.layer_sizes is not None:
        return float(run.layer_sizes.sum())
    remaining = run.series.get("remainingWeights")
    if remaining is not None and remaining[0] > 0:
        return float(remaining[0])
    return None


def remaining_pct(run: Run) -> np.ndarray | None:
    """Remaining (unpruned) weights in percent of all maskable weights."""
    total = total_weights(run)
    remaining = run.series.get("remainingWeights")
    if sparsity_kind(run) != REMAINING or remaining is None or not total:
        return None
    return remaining / total * 100.0


def flipped_pct(run: Run) -> np.ndarray | None:
    """Weights whose mask is negative (sign flipped) in percent, for flip runs."""
    total = total_weights(run)
    if sparsity_kind(run) != FLIPPED or run.per_layer is None or not total:
        return None
    return run.per_layer[:, :, 0].sum(axis=1) / total * 100.0


def sparsity_pct(run: Run) -> np.ndarray | None:
    """Remaining weights (%) or, for flip runs, flipped signs (%)."""
    return flipped_pct(run) if sparsity_kind(run) == FLIPPED else remaining_pct(run)


def pruned_or_flipped_pct(run: Run) -> np.ndarray | None:
    """The original bottom panel: pruned = 100 - remaining, or flipped signs."""
    if sparsity_kind(run) == FLIPPED:
        return flipped_pct(run)
    remaining = remaining_pct(run)
    return None if remaining is None else 100.0 - remaining


def layer_sparsity_pct(run: Run) -> np.ndarray | None:
    """Per-layer remaining weights (or flipped signs), shape (epochs+1, layers)."""
    if run.per_layer is None or run.layer_sizes is None:
        return None
    masks = run.per_layer[:, :, :3]
    if sparsity_kind(run) == FLIPPED:
        kept = masks[:, :, 0]
    else:
        kept = masks[:, :, 0] + masks[:, :, 2]
    return kept / run.layer_sizes[np.newaxis, :] * 100.0


def composition_pct(run: Run) -> np.ndarray | None:
    """Per-layer sign counts in percent of layer size, shape (epochs+1, layers, 6).

    The six entries are negative/zero/positive masks, then negative/zero/
    positive masked weights (mask times kernel).
    """
    if run.per_layer is None or run.layer_sizes is None:
        return None
    return run.per_layer / run.layer_sizes[np.newaxis, :, np.newaxis] * 100.0


def generic_series_keys(runs: list[Run]) -> list[str]:
    """Plotted per-epoch series without a dedicated figure, in first-seen order."""
    keys: dict[str, None] = {}
    for run in runs:
        for key in run.series:
            if key not in DEDICATED_SERIES | UNPLOTTED_SERIES:
                keys.setdefault(key)
    return list(keys)


def series_label(key: str) -> str:
    """Axis label for a series key, e.g. "Kept fraction" -> "Kept (%)"."""
    if key in SERIES_LABELS:
        return SERIES_LABELS[key]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").split()
    text = " ".join(words).lower()
    if is_fraction(key):
        text = " ".join(word for word in text.split() if word != "fraction") + " (%)"
    return text[:1].upper() + text[1:]
