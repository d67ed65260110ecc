"""masktrainer.nn.metrics: BatchMeanLoss averages per batch, then over batches."""

import keras
import numpy as np

from masktrainer.nn.metrics import BatchMeanLoss


def _onehot(labels, classes=3):
    return np.eye(classes, dtype="float32")[labels]


def test_the_last_smaller_batch_counts_as_much_as_the_others():
    metric = BatchMeanLoss()
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]], "float32")
    labels = np.array([0, 1, 0])
    batches = [(slice(0, 2)), (slice(2, 3))]  # two images, then one
    losses = []
    for part in batches:
        metric.update_state(_onehot(labels[part]), probs[part])
        losses.append(np.mean(-np.log(probs[part][np.arange(len(labels[part])),
                                                   labels[part]])))
    assert np.isclose(float(metric.result()), np.mean(losses), rtol=1e-6)
    per_sample = -np.log(probs[np.arange(3), labels]).mean()
    assert not np.isclose(float(metric.result()), per_sample)  # not the per-image mean
    metric.reset_state()
    assert float(metric.result()) == 0.0  # no batch yet: 0, not NaN


def test_it_round_trips_through_keras_serialization():
    metric = BatchMeanLoss(name="val_batch_loss")
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(again, BatchMeanLoss) and again.name == "val_batch_loss"
