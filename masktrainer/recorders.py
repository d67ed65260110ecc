"""Per-method bookkeeping of a run: per-epoch statistics, the epoch line, saved arrays.

The trainer is method-agnostic: it asks the run's recorder what to measure
after every epoch (values are appended to ``metrics.json`` under the
recorder's keys), how to describe it on the console, and which ``.npz`` files
to write before and after training.

* self-pruning: the original ``remainingWeights`` / ``remainingWeightsPerLayer``;
* edge-popup: the same, plus the measured ``keptFractionPerLayer``;
* slot machines: ``slotHistogramPerLayer`` (connections per selected slot index),
  ``slotChangedFraction`` / ``slotChangedFractionPerLayer`` (selection changed
  since the previous epoch; null at epoch 0);
* slot fine-tuning: no extra statistics.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from masktrainer import stats as S

CORE_KEYS = ("trainLoss", "valLoss", "testLoss", "trainAccuracy", "valAccuracy", "testAccuracy")


def _pct(value: float) -> str:
    return f"{100.0 * value:.2f}%"


class Recorder:
    """No extra statistics (plain weight training)."""

    flat_keys: tuple[str, ...] = ()  # per-epoch numbers, after the CORE_KEYS

    def __init__(self, model: keras.Model) -> None:
        self.layer_names, self.layer_sizes = self._layers(model)

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        layers = S.plain_kernel_layers(model)
        return [l.name for l in layers], [int(np.prod(l.kernel.shape)) for l in layers]

    def per_layer_fields(self) -> dict[str, list[str]]:
        """Per-layer per-epoch keys -> the names of the values each layer records."""
        return {}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        return {}

    def describe(self, values: dict[str, Any]) -> str:
        return ""

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {"initial_weights.npz": S.plain_kernel_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {"final_weights.npz": S.plain_kernel_arrays(model)}

    def summary(self, metrics: dict[str, Any]) -> str:
        return ""

    # Hooks around each evaluation and before the model is saved (LaPerm).
    def prepare_evaluation(self, model: keras.Model) -> None:
        """Put the weights to evaluate in place."""

    def finish_evaluation(self, model: keras.Model) -> None:
        """Restore the training weights after an evaluation."""

    def finalize(self, model: keras.Model) -> None:
        """Make the model's weights the method's final result before saving."""


class SelfPruningRecorder(Recorder):
    """The original's mask counts."""

    flat_keys = ("remainingWeights",)

    def __init__(self, model: keras.Model, train_weights: bool = False) -> None:
        self.train_weights = train_weights
        super().__init__(model)

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        stats = S.connectivity_stats(model)
        return stats.layer_names, stats.layer_sizes

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {"remainingWeightsPerLayer": list(S.COUNT_FIELDS)}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        stats = S.connectivity_stats(model)
        return {"remainingWeights": stats.remaining, "remainingWeightsPerLayer": stats.per_layer,
                "_stats": stats}

    def describe(self, values: dict[str, Any]) -> str:
        stats = values["_stats"]
        frac = stats.fractions()
        return (
            f" | remaining {_pct(stats.remaining / stats.total)} ({stats.remaining:,}/{stats.total:,})"
            f" | masks -/0/+ {_pct(frac['neg_masks'])}/{_pct(frac['zero_masks'])}/{_pct(frac['pos_masks'])}"
            f" | weights -/0/+ {_pct(frac['neg_effective'])}/{_pct(frac['zero_effective'])}"
            f"/{_pct(frac['pos_effective'])}"
        )

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {"initial_weights.npz": S.kernel_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        out = {"masks.npz": S.mask_arrays(model)}
        if self.train_weights:
            out["final_weights.npz"] = S.kernel_arrays(model)
        return out

    def summary(self, metrics: dict[str, Any]) -> str:
        return f", remaining {_pct(metrics['remainingWeights'][-1] / sum(metrics['layer_sizes']))}"


class EdgePopupRecorder(SelfPruningRecorder):
    """Mask counts plus the kept fraction per layer, measured from the masks."""

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {**super().per_layer_fields(), "keptFractionPerLayer": ["kept_fraction"]}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        values = super().measure(model)
        stats = values["_stats"]
        values["keptFractionPerLayer"] = [
            [(size - counts[1]) / size] for size, counts in zip(stats.layer_sizes, stats.per_layer)
        ]
        return values

    def describe(self, values: dict[str, Any]) -> str:
        stats = values["_stats"]
        kept = "/".join(f"{100 * v[0]:.1f}" for v in values["keptFractionPerLayer"])
        return f" | kept {_pct(stats.remaining / stats.total)} (per layer {kept}%)"


class SlotRecorder(Recorder):
    """Selected-slot histograms and how many selections changed since the last epoch."""

    flat_keys = ("slotChangedFraction",)

    def __init__(self, model: keras.Model) -> None:
        super().__init__(model)
        self.slots = S.slot_layers(model)[0].slots
        self._previous: dict[str, np.ndarray] | None = None

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        layers = S.slot_layers(model)
        return [l.name for l in layers], [int(np.prod(l.kernel_shape)) for l in layers]

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {
            "slotHistogramPerLayer": [f"slot{k}" for k in range(self.slots)],
            "slotChangedFractionPerLayer": ["changed_fraction"],
        }

    def measure(self, model: keras.Model) -> dict[str, Any]:
        current = S.slot_selections(model)
        changed_total: float | None = None
        per_layer: list[list[float | None]] = [[None] for _ in current]
        if self._previous is not None:
            fractions = S.changed_fractions(self._previous, current)
            per_layer = [[f] for f in fractions]
            changed_total = float(
                sum(f * n for f, n in zip(fractions, self.layer_sizes)) / sum(self.layer_sizes)
            )
        self._previous = current
        return {
            "slotHistogramPerLayer": S.slot_histograms(current, self.slots),
            "slotChangedFraction": changed_total,
            "slotChangedFractionPerLayer": per_layer,
        }

    def describe(self, values: dict[str, Any]) -> str:
        changed = values["slotChangedFraction"]
        text = "-" if changed is None else _pct(changed)
        counts = np.sum(np.asarray(values["slotHistogramPerLayer"]), axis=0)
        share = "/".join(f"{100 * c / counts.sum():.1f}" for c in counts)
        return f" | selection changed {text} | slots used {share}%"

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {"slot_values.npz": S.slot_value_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {
            "selections.npz": S.slot_selections(model),
            "selected_weights.npz": S.selected_kernel_arrays(model),
        }


def recorder_for(method: str, model: keras.Model, train_weights: bool = False) -> Recorder:
    """The recorder of a method (``RunConfig.method``)."""
    if method == "laperm":
        from masktrainer.laperm_recorder import LaPermRecorder

        return LaPermRecorder(model)
    if method == "self_pruning":
        return SelfPruningRecorder(model, train_weights)
    if method == "edge_popup":
        return EdgePopupRecorder(model)
    if method == "slot_machines":
        return SlotRecorder(model)
    return Recorder(model)
