"""The training input pipeline: shuffled batches of one split, a function of (seed, epoch)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Fixed parallelism, tf.data's autotuning off: gathering a batch is cheap, and the autotuner's
# thread made the end of some ``fit`` calls wait 1-5 s for it (measured on a loaded 2-core
# machine; experiments/benchmark_trainer.py reports the wait).
GATHER_THREADS = 2
PREFETCH_BATCHES = 2
_FIXED = tf.data.Options()
_FIXED.autotune.enabled = False


def evaluation_batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The batches ``model.evaluate(x, y, batch_size=...)`` would make, in order, without
    tf.data's autotuning (whose thread holds the end of an evaluation for up to 0.4 s)."""
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    return batches.prefetch(PREFETCH_BATCHES).with_options(_FIXED)


class EpochBatches:
    """Batches of one split by index gathering (shuffling never copies the images).

    The order of epoch ``e`` is a function of (seed, e) alone, so a run resumed
    at any epoch sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None) -> None:
        self.x, self.y = tf.constant(x), tf.constant(y)
        self.size, self.batch_size, self.seed = len(x), batch_size, seed
        self.steps = -(-self.size // batch_size)  # per epoch

    def epoch(self, epoch: int):
        if self.seed is None:
            order = np.arange(self.size)
        else:
            order = np.random.RandomState([self.seed % 2**32, epoch]).permutation(self.size)
        x, y = self.x, self.y
        batches = tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size).map(
            lambda idx: (tf.gather(x, idx), tf.gather(y, idx)), num_parallel_calls=GATHER_THREADS
        )
        return batches.prefetch(PREFETCH_BATCHES).with_options(_FIXED)
