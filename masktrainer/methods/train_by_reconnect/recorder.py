"""Per-epoch statistics of LaPerm runs, and evaluation on reconnected weights.

Between two syncs the weights move freely, so at the end of an epoch they are
in general *not* a permutation of the initial ones (the original evaluated
them anyway when its validation period was not a multiple of k). Here every
evaluation sees the reconnected network: the current weights are replaced by
``reconnect(current, sorted initial)`` for the evaluation and restored
afterwards, so training follows the original's sync schedule exactly. The
saved model holds the reconnected weights.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from masktrainer import layout
from masktrainer.methods.recording import Recorder
from masktrainer.text import pct


def _key(variable) -> str:
    return variable.path.replace("/", ".")


class LaPermRecorder(Recorder):
    flat_keys = ("syncCount", "syncChangedPositions", "permutationIntact", "changedFromInitial")

    def __init__(self, model: keras.Model) -> None:
        self._initial = {_key(v): v.numpy().copy() for v in model.trainable_variables}
        self._stash: list[tuple[Any, np.ndarray]] = []
        super().__init__(model)

    def _layers(self, model: keras.Model) -> tuple[list[str], list[int]]:
        kernels = [v for v in model.trainable_variables if len(v.shape) >= 2]
        return [_key(v) for v in kernels], [int(np.prod(v.shape)) for v in kernels]

    @staticmethod
    def _optimizer(model: keras.Model):
        optimizer = model.optimizer
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):  # mixed precision
            optimizer = optimizer.inner_optimizer
        ready = getattr(optimizer, "built", False) and hasattr(optimizer, "initialized")
        return optimizer if ready and int(optimizer.initialized.numpy()) == 1 else None

    def _permuted(self, model: keras.Model) -> list:
        optimizer = self._optimizer(model)
        if optimizer is None:
            return []
        return [v for v in model.trainable_variables if optimizer.is_permuted(v)]

    def prepare_evaluation(self, model: keras.Model) -> None:
        optimizer = self._optimizer(model)
        self._stash = []
        for variable in self._permuted(model):
            self._stash.append((variable, variable.numpy().copy()))
            variable.assign(optimizer.reconnected(variable))

    def finish_evaluation(self, model: keras.Model) -> None:
        for variable, value in self._stash:
            variable.assign(value)
        self._stash = []

    def finalize(self, model: keras.Model) -> None:
        self.prepare_evaluation(model)
        self._stash = []  # keep the reconnected weights

    def measure(self, model: keras.Model) -> dict[str, Any]:
        optimizer = self._optimizer(model)
        if optimizer is None:  # epoch 0: the initial weights themselves
            return {"syncCount": 0, "syncChangedPositions": 0, "permutationIntact": 1,
                    "changedFromInitial": 0.0}
        permuted = self._permuted(model)
        intact = optimizer.check_permutations(permuted)
        changed = total = 0
        for variable in permuted:
            initial = self._initial[_key(variable)]
            changed += int(np.count_nonzero(variable.numpy() != initial))
            total += initial.size
        return {
            "syncCount": int(optimizer.sync_count.numpy()),
            "syncChangedPositions": int(optimizer.last_sync_changed.numpy()),
            "permutationIntact": int(intact),
            "changedFromInitial": changed / total if total else 0.0,
        }

    def describe(self, values: dict[str, Any]) -> str:
        intact = "yes" if values["permutationIntact"] else "NO"
        return (f" | syncs {values['syncCount']}, last moved {values['syncChangedPositions']:,}"
                f" | moved from init {pct(values['changedFromInitial'])}, permutation {intact}")

    def initial_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {layout.INITIAL_WEIGHTS_FILE: dict(self._initial)}

    def final_arrays(self, model: keras.Model) -> dict[str, dict[str, np.ndarray]]:
        return {layout.FINAL_WEIGHTS_FILE: {_key(v): v.numpy()
                                            for v in model.trainable_variables}}

    def summary(self, metrics: dict[str, Any]) -> str:
        return (f", {metrics['syncCount'][-1]} syncs, "
                f"{pct(metrics['changedFromInitial'][-1])} of positions moved")
