"""Per-epoch statistics of Slot Machines runs and the arrays they save.

* ``slotHistogramPerLayer``: connections per selected slot index;
* ``slotChangedFraction`` / ``slotChangedFractionPerLayer``: selections changed
  since the previous epoch (null at epoch 0);
* ``slot_values.npz`` (the K values) before training, ``selections.npz`` and
  ``selected_weights.npz`` (the argmax selection and its kernels) after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from masktrainer.methods.recording import Recorder
from masktrainer.methods.slot_machines.layers import SlotLayer
from masktrainer.text import pct


def slot_layers(model: keras.Model) -> list[SlotLayer]:
    """The slot-machine layers of ``model`` in forward order."""
    return [layer for layer in model.layers if isinstance(layer, SlotLayer)]


def slot_selections(model: keras.Model) -> dict[str, np.ndarray]:
    """The argmax slot index of every connection, per slot layer (uint8 if K <= 256)."""
    return {layer.name: layer.learned_arrays()[""] for layer in slot_layers(model)}


def slot_histograms(selections: dict[str, np.ndarray], slots: int) -> list[list[int]]:
    """Per layer: how many connections select slot 0, 1, …, K-1."""
    return [np.bincount(index.ravel(), minlength=slots).astype(int).tolist()
            for index in selections.values()]


def changed_fractions(
    before: dict[str, np.ndarray], after: dict[str, np.ndarray]
) -> list[float]:
    """Per layer: fraction of connections whose selected slot differs."""
    return [float(np.mean(before[name] != after[name])) for name in after]


def slot_value_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The K candidate values of every slot layer (kernel shape + (K,))."""
    return {layer.name: layer.values.numpy() for layer in slot_layers(model)}


def selected_kernel_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The effective kernels of the argmax selection (the original's checkpoint content)."""
    return {layer.name: layer.get_effective_kernel().numpy() for layer in slot_layers(model)}




SNAPSHOT_FOLDER = "selections"


def snapshot_name(epoch: int) -> str:
    """The file holding the selection at the end of ``epoch`` (for --finetune_epoch)."""
    return f"{SNAPSHOT_FOLDER}/epoch_{epoch:04d}.npz"


def changed_since_epoch_0(run_dir: Path, last_epoch: int) -> float | None:
    """Connections whose selected slot at ``last_epoch`` differs from epoch 0's, over all slot
    layers (the stored selections; None when the run kept no epoch-0 snapshot)."""
    from masktrainer.npz import load_npz  # never unpickles

    first, last = (Path(run_dir) / snapshot_name(e) for e in (0, last_epoch))
    if not first.is_file() or not last.is_file():
        return None
    before, after = load_npz(first), load_npz(last)
    names = [name for name in after if not name.startswith("bn/")]
    changed = sum(int(np.count_nonzero(before[name] != after[name])) for name in names)
    return changed / sum(after[name].size for name in names) if names else None


def batchnorm_arrays(model: keras.Model) -> dict[str, np.ndarray]:
    """The BatchNormalization moving statistics, keyed ``bn/<layer>/<i>`` (fine-tuning copies them)."""
    return {f"bn/{layer.name}/{i}": np.asarray(w)
            for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
            for i, w in enumerate(layer.get_weights())}


class SlotRecorder(Recorder):
    """Selected-slot histograms, how many selections changed since the last epoch, and the
    selection every ``snapshot_every`` epochs and at the last (the original's ``checks/``)."""

    flat_keys = ("slotChangedFraction",)

    def __init__(self, model: keras.Model, snapshot_every: int = 0, last_epoch: int = 0) -> None:
        super().__init__(model)
        self.slots = slot_layers(model)[0].slots
        self.snapshot_every, self.last_epoch = snapshot_every, last_epoch
        self._previous: dict[str, np.ndarray] | None = None

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        layers = slot_layers(model)
        return [l.name for l in layers], [int(np.prod(l.kernel_shape)) for l in layers]

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {
            "slotHistogramPerLayer": [f"slot{k}" for k in range(self.slots)],
            "slotChangedFractionPerLayer": ["changed_fraction"],
        }

    def measure(self, model: keras.Model) -> dict[str, Any]:
        current = slot_selections(model)
        changed_total: float | None = None
        per_layer: list[list[float | None]] = [[None] for _ in current]
        if self._previous is not None:
            fractions = changed_fractions(self._previous, current)
            per_layer = [[f] for f in fractions]
            changed_total = float(
                sum(f * n for f, n in zip(fractions, self.layer_sizes)) / sum(self.layer_sizes)
            )
        self._previous = current
        return {
            "slotHistogramPerLayer": slot_histograms(current, self.slots),
            "slotChangedFraction": changed_total,
            "slotChangedFractionPerLayer": per_layer,
        }

    def describe(self, values: dict[str, Any]) -> str:
        changed = values["slotChangedFraction"]
        text = "-" if changed is None else pct(changed)
        counts = np.sum(np.asarray(values["slotHistogramPerLayer"]), axis=0)
        share = "/".join(f"{100 * c / counts.sum():.1f}" for c in counts)
        return f" | selection changed {text} | slots used {share}%"

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {"slot_values.npz": slot_value_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {
            "selections.npz": slot_selections(model),
            "selected_weights.npz": selected_kernel_arrays(model),
        }

    def epoch_arrays(self, model: keras.Model, epoch: int) -> dict[str, dict[str, np.ndarray]]:
        every = self.snapshot_every
        if epoch == self.last_epoch or (every and epoch % every == 0):
            return {snapshot_name(epoch): {**slot_selections(model), **batchnorm_arrays(model)}}
        return {}


