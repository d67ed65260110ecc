"""masktrainer.data.pipeline: evaluation batches in order, and training batches whose order is
a function of (seed, epoch) alone, so a resumed run sees the batches of an uninterrupted one."""

import numpy as np

from masktrainer.data.pipeline import EpochBatches, evaluation_batches

X = np.arange(10, dtype=np.float32).reshape(10, 1) * 10
Y = np.arange(10, dtype=np.int64)


def _labels(dataset) -> list[list[int]]:
    return [batch_y.numpy().tolist() for _, batch_y in dataset]


def test_evaluation_batches_keep_the_order_and_a_short_last_batch():
    assert _labels(evaluation_batches(X, Y, 4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for batch_x, batch_y in evaluation_batches(X, Y, 4):
        np.testing.assert_array_equal(batch_x.numpy()[:, 0], batch_y.numpy() * 10)


def test_an_epochs_order_depends_on_the_seed_and_the_epoch_only():
    batches = EpochBatches(X, Y, 4, seed=3)
    assert batches.steps == 3
    first = _labels(batches.epoch(0))
    assert [len(batch) for batch in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == list(range(10))  # every image once
    assert _labels(EpochBatches(X, Y, 4, seed=3).epoch(0)) == first  # a resumed run
    assert _labels(batches.epoch(1)) != first
    for batch_x, batch_y in batches.epoch(2):  # images and labels gathered together
        np.testing.assert_array_equal(batch_x.numpy()[:, 0], batch_y.numpy() * 10)


def test_no_seed_means_the_stored_order():
    assert _labels(EpochBatches(X, Y, 5, seed=None).epoch(7)) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
