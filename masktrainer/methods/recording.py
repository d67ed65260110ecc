"""Per-method bookkeeping of a run: per-epoch statistics, the epoch line, saved arrays.

The trainer is method-agnostic: it asks the run's recorder (``Runtime.recorder``)
what to measure after every epoch (values are appended to the run's metrics
under the recorder's keys), how to describe it on the console, and which
``.npz`` files to write before and after training.

:class:`Recorder` records nothing extra (plain weight training, e.g. Slot
Machines' fine-tuning); :class:`MaskCountRecorder` records the self-pruning
original's ``remainingWeights`` / ``remainingWeightsPerLayer`` for every
masked method (edge-popup and supermask sampling extend it with their own
statistics). Each method's other recorders live beside it.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from masktrainer import layout
from masktrainer.methods import counts as S
from masktrainer.text import pct

CORE_KEYS = layout.CORE_SERIES  # the per-epoch series of every run


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

    def legend(self) -> str:
        """A line explaining :meth:`describe`'s abbreviations, printed once ("" for none)."""
        return ""

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {layout.INITIAL_WEIGHTS_FILE: S.plain_kernel_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {layout.FINAL_WEIGHTS_FILE: S.plain_kernel_arrays(model)}

    def epoch_arrays(self, model: keras.Model, epoch: int) -> dict[str, dict[str, np.ndarray]]:
        """Arrays to keep from the end of ``epoch`` (file name below the run -> arrays)."""
        return {}

    def summary(self, metrics: dict[str, Any]) -> str:
        return ""

    # Hooks around each evaluation and before the model is saved (LaPerm).
    def prepare_evaluation(self, model: keras.Model) -> None:
        """Put the weights to evaluate in place."""

    def finish_evaluation(self, model: keras.Model) -> None:
        """Restore the training weights after an evaluation."""

    def finalize(self, model: keras.Model) -> None:
        """Make the model's weights the method's final result before saving."""


class MaskCountRecorder(Recorder):
    """The self-pruning original's mask counts; ``keep_kernels`` saves the trained kernels too.

    ``signed``: the masks are signs (self-pruning's flip), so every weight remains and the
    console reports the flipped fraction (masks < 0) instead of the remaining one.
    """

    flat_keys = (layout.REMAINING_KEY,)

    def __init__(self, model: keras.Model, keep_kernels: bool = False,
                 signed: bool = False) -> None:
        self.keep_kernels, self.signed = keep_kernels, signed
        super().__init__(model)

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        stats = S.connectivity_stats(model)
        return stats.layer_names, stats.layer_sizes

    def per_layer_fields(self) -> dict[str, list[str]]:
        return {layout.PER_LAYER_KEY: list(S.COUNT_FIELDS)}

    def measure(self, model: keras.Model) -> dict[str, Any]:
        stats = S.connectivity_stats(model)
        return {layout.REMAINING_KEY: stats.remaining, layout.PER_LAYER_KEY: stats.per_layer,
                "_stats": stats}

    def legend(self) -> str:
        return ("masks -/0/+: the shares of mask values below, at and above 0 "
                f"({'a negative mask flips its weight' if self.signed else '0 prunes'}); "
                "weights -/0/+: the same for the weights applied (kernel * mask)")

    def describe(self, values: dict[str, Any]) -> str:
        stats = values["_stats"]
        frac = stats.fractions()
        if self.signed:
            flipped = sum(counts[0] for counts in stats.per_layer)
            head = f" | flipped {pct(flipped / stats.total)} ({flipped:,}/{stats.total:,})"
        else:
            head = (f" | remaining {pct(stats.remaining / stats.total)} "
                    f"({stats.remaining:,}/{stats.total:,})")
        return head + (
            f" | masks -/0/+ {pct(frac['neg_masks'])}/{pct(frac['zero_masks'])}"
            f"/{pct(frac['pos_masks'])}"
            f" | weights -/0/+ {pct(frac['neg_effective'])}/{pct(frac['zero_effective'])}"
            f"/{pct(frac['pos_effective'])}"
        )

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {layout.INITIAL_WEIGHTS_FILE: S.kernel_arrays(model)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        out = {layout.MASKS_FILE: S.mask_arrays(model)}
        if self.keep_kernels:
            out[layout.FINAL_WEIGHTS_FILE] = S.kernel_arrays(model)
        return out

    def summary(self, metrics: dict[str, Any]) -> str:
        total = sum(metrics["layer_sizes"])
        if self.signed:
            last = metrics[layout.PER_LAYER_KEY][-1]
            return f", flipped {pct(sum(counts[0] for counts in last) / total)}"
        return f", remaining {pct(metrics['remainingWeights'][-1] / total)}"
